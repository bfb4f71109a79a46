"""What an ``S3FileField`` value names: the storage name (object key, less the location) it
stands for.

A value is a URL of the field's storage (any form that storage makes) or a bare name. The
rule is strict because the column is trusted later: a URL the storage did not make
(another host, ``javascript:``), a name no key can hold, or a value too long to be either
is refused unparsed and never fetched. Reading a legacy row asks leniently, so a bad
stored value shows as it is instead of crashing a page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.storage import Storage

from buckets.signing.limits import MAX_KEY_BYTES
from buckets.storage.keys import clean_name, name_to_key

__all__ = ["MAX_VALUE_LENGTH", "storage_name"]

#: A value with a scheme (``https:``, ``javascript:``...) is a URL, never a bare key.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
#: Longest value (a name, or a URL of the storage) the field parses, in characters: a longer
#: one is refused unparsed. A name is at most S3's key limit; a URL adds its host,
#: percent-encoding (three characters a byte at most) and a signed query.
MAX_VALUE_LENGTH = 8 * MAX_KEY_BYTES


def storage_name(
    value: Any, storage: Storage, messages: Mapping[str, Any], strict: bool = True
) -> str:
    """The storage name for a stored or assigned ``value`` (``""`` for none).

    ``strict``: raise ``ValidationError`` (code ``foreign`` or ``invalid``, the message from
    ``messages["foreign"]`` or ``messages["invalid_name"]``) for a value that is not ours;
    otherwise return it unchanged. A value over :data:`MAX_VALUE_LENGTH` characters is
    never parsed.
    """
    if value is None or value == "":
        return ""
    name = str(value)
    if len(name) > MAX_VALUE_LENGTH:
        if strict:
            raise ValidationError(messages["invalid_name"], code="invalid")
        return name
    try:
        if _SCHEME.match(name) or name.startswith("//"):
            from_url = getattr(storage, "name_from_url", None)
            parsed = from_url(name) if from_url else None
            if parsed is None:
                raise ValidationError(messages["foreign"], code="foreign")
            name = parsed
        name_to_key(name)
        return clean_name(name)  # the name the storage keeps: "a/./b" is "a/b"
    except (SuspiciousFileOperation, UnicodeError) as exc:  # a lone surrogate: no key
        if strict:
            raise ValidationError(messages["invalid_name"], code="invalid") from exc
        return name
    except ValidationError:
        if strict:
            raise
        return name
