"""Listings of many objects, read cheaply: a botocore hook reads each ``ListObjectsV2`` page's
``<Contents>`` itself and hands botocore the page without them.

botocore reads each page twice: once whole to find an error S3 may send with a 200 status,
then field by field through S3's service model. For thousands of objects that costs more
than the requests. The hook parses the page once with the standard library's XML parser
(an unparsable page or an ``<Error>`` one is a server error, retried, as botocore has it),
keeps what a transfer compares of each object (key, size, ETag, and the time as the server
wrote it), and gives botocore the rest of the page (continuation token, prefixes,
truncation) to parse as usual. Keys stay as the server sent them: botocore URL-decodes them
where it asked for URL-encoded keys, as for any listing. Other operations keep botocore's
own check.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from botocore import handlers

__all__ = ["read_listings_fast"]

_EVENT = "before-parse.s3.*"
#: botocore's check for an error sent with a 200 status, which parses every page whole.
_BOTOCORE_CHECK = getattr(handlers, "_handle_200_error", None)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _read_listing(response_dict: dict[str, Any], customized_response_dict: dict[str, Any]) -> None:
    """A successful page's objects into ``customized_response_dict`` (which botocore merges
    into what it parses) and the page without them back to botocore."""
    try:
        root = ET.fromstring(response_dict["body"])
    except ET.ParseError:
        response_dict["status_code"] = 500  # a page cut short: retried
        return
    if _local(root.tag) == "Error":
        response_dict["status_code"] = 500
        return
    contents: list[dict[str, Any]] = []
    rest = []
    for node in root:
        if _local(node.tag) != "Contents":
            rest.append(node)
            continue
        found = {_local(child.tag): child.text or "" for child in node}
        if "Key" not in found or "Size" not in found:
            return  # not a listing as expected: botocore parses all of it
        obj: dict[str, Any] = {"Key": found["Key"], "Size": int(found["Size"])}
        for name in ("ETag", "LastModified"):
            if name in found:
                obj[name] = found[name]
        contents.append(obj)
    if contents:
        root[:] = rest
        customized_response_dict["Contents"] = contents
        response_dict["body"] = ET.tostring(root)


def _before_parse(
    operation_model: Any,
    response_dict: dict[str, Any],
    customized_response_dict: dict[str, Any],
    **kwargs: Any,
) -> None:
    listing = operation_model.name == "ListObjectsV2"
    if listing and response_dict.get("status_code") == 200 and response_dict.get("body"):
        _read_listing(response_dict, customized_response_dict)
    elif _BOTOCORE_CHECK is not None:
        _BOTOCORE_CHECK(operation_model=operation_model, response_dict=response_dict, **kwargs)


def read_listings_fast(client: Any) -> None:
    """Make ``client`` (and only it) read ``ListObjectsV2`` pages with :func:`_read_listing`:
    each listed object a dict of ``Key``, ``Size`` (an int), ``ETag`` and ``LastModified``
    (a string)."""
    events = client.meta.events
    if _BOTOCORE_CHECK is not None:
        events.unregister(_EVENT, _BOTOCORE_CHECK)
    events.register_first(_EVENT, _before_parse, unique_id="buckets-fast-listing")
