"""S3 browser-upload (POST) policies: building and signing one upload's policy.

:func:`build_post_policy` pins one upload (its key, its size range, its Content-Type) so
the browser can post nothing else. It is the one builder for every signer, and
:mod:`buckets.signing.post_verify` applies the same rules in the other direction, so a policy
a verifier built on it accepts is one S3 accepts. Pure: the clock (``now``) is passed in.

The policy is base64 of a JSON object with ``expiration`` (ISO 8601, UTC, ``Z``) and
``conditions``; its SigV4 signature is the hex HMAC of the base64 text (see
:mod:`buckets.signing.sigv4`).
"""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import Iterable

from buckets.signing import sigv4 as signing
from buckets.signing.content_types import (
    is_script_capable,
    normalize_content_type,
    signed_content_type,
)
from buckets.signing.limits import MAX_KEY_BYTES, S3_MAX_POST_SIZE

__all__ = ["DEFAULT_EXPIRES", "PolicyError", "build_post_policy"]

DEFAULT_EXPIRES = 600
EXPIRATION_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
SUCCESS_STATUSES = frozenset({"200", "201", "204"})
#: The policy's JSON, compact (one encoder for every policy: ``json.dumps`` with separators
#: would make one per call).
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))
#: The ``Content-Disposition`` a script-capable upload is pinned to (S3 stores and serves it).
ATTACHMENT = "attachment"


class PolicyError(ValueError):
    """The caller asked for a policy that cannot or must not be built."""


def _content_type_condition(
    content_type: str | None, accept: Iterable[str] | None
) -> tuple[list[str], str]:
    """The Content-Type condition and the value to put in the form: always one type, pinned
    with ``eq``, chosen by :func:`~buckets.signing.content_types.signed_content_type`.

    A policy cannot OR conditions, so a list of accepted types is enforced by checking the
    type the client declares against the list here and pinning it. Without a declared
    type, only a single exact accepted type (or, for a field accepting anything,
    ``application/octet-stream``) can be pinned: a wildcard needs a declared type (a
    ``starts-with`` condition would let the client send ``image/svg+xml`` or
    ``image/png;,text/html``). A type is always pinned: a server that stores a form field
    the policy does not cover (SeaweedFS) would otherwise take any type from the client, and
    an object stored with no type is sniffed.
    """
    signed = signed_content_type(content_type, accept)
    if signed is None:
        if content_type is not None and normalize_content_type(content_type) is None:
            raise PolicyError(f"Invalid content type: {content_type!r}")
        if content_type is not None:
            raise PolicyError(f"Content type {content_type!r} is not accepted")
        raise PolicyError(
            "A content type must be declared when several types or a wildcard are accepted, "
            "and a type a browser sniffs or runs is never signed"
        )
    return ["eq", "$Content-Type", signed], signed


def build_post_policy(
    *,
    bucket: str,
    key: str,
    access_key: str,
    secret_key: str,
    region: str,
    max_size: int = S3_MAX_POST_SIZE,
    min_size: int = 0,
    token: str | None = None,
    content_type: str | None = None,
    accept: Iterable[str] | None = None,
    success_action_status: int | str | None = None,
    expires: int = DEFAULT_EXPIRES,
    now: datetime.datetime | None = None,
    service: str = "s3",
) -> tuple[dict[str, str], dict]:
    """Build and sign a POST policy that pins one upload.

    Returns ``(fields, policy_document)``: ``fields`` is exactly what the
    client posts before the file (``key``, ``Content-Type``, ``Content-Disposition`` when
    set, ``success_action_status`` when set, the ``x-amz-*`` fields, ``policy``,
    ``x-amz-signature``). The key is pinned with ``eq``, the size with
    ``content-length-range`` (inclusive), the type as :func:`_content_type_condition`
    explains. A script-capable type a field lists exactly (HTML, SVG, XML:
    :func:`is_script_capable`) is also pinned to ``Content-Disposition: attachment``, which
    S3 stores and serves with the object: opened from its URL, it downloads instead of
    running as a page on the bucket's origin (Ceph RGW ignores that field). Raises
    :class:`PolicyError` for a request that must not be signed (a declared type outside
    ``accept``...).
    """
    if not key:
        raise PolicyError("The key must not be empty")
    if "${filename}" in key:
        raise PolicyError("The key must not contain ${filename}: S3 would substitute it")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise PolicyError(f"S3 keys are at most {MAX_KEY_BYTES} bytes")
    if not 0 <= min_size <= max_size:
        raise PolicyError(f"Invalid size range: {min_size}..{max_size}")
    if expires <= 0:
        raise PolicyError("expires must be positive")
    status = None if success_action_status is None else str(success_action_status)
    if status is not None and status not in SUCCESS_STATUSES:
        raise PolicyError("success_action_status must be 200, 201 or 204")

    now = signing.utc(now)
    stamp = signing.amz_date(now)
    date_stamp = stamp[:8]
    cred = signing.credential(access_key, date_stamp, region, service)
    expiration = now.astimezone(datetime.timezone.utc) + datetime.timedelta(seconds=expires)

    fields: dict[str, str] = {"key": key}
    conditions: list = [
        {"bucket": bucket},
        ["eq", "$key", key],
        ["content-length-range", int(min_size), int(max_size)],
    ]
    ct_condition, ct_value = _content_type_condition(content_type, accept)
    conditions.append(ct_condition)
    fields["Content-Type"] = ct_value
    if is_script_capable(ct_value):
        # S3 serves the object from the bucket's origin: as a download, never a page.
        conditions.append(["eq", "$Content-Disposition", ATTACHMENT])
        fields["Content-Disposition"] = ATTACHMENT
    if status is not None:
        conditions.append({"success_action_status": status})
        fields["success_action_status"] = status
    auth = {"x-amz-algorithm": signing.ALGORITHM, "x-amz-credential": cred, "x-amz-date": stamp}
    if token is not None:
        auth["x-amz-security-token"] = token
    for name, value in auth.items():
        conditions.append({name: value})
        fields[name] = value

    document = {"expiration": expiration.strftime(EXPIRATION_FORMAT), "conditions": conditions}
    policy_b64 = base64.b64encode(_COMPACT_JSON.encode(document).encode("utf-8")).decode("ascii")
    fields["policy"] = policy_b64
    fields["x-amz-signature"] = signing.sign_policy(
        policy_b64, secret_key, date_stamp, region, service
    )
    return fields, document
