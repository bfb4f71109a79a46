"""S3 browser-upload (POST) policies: building and signing one upload's policy.

:func:`build_post_policy` is what the real side (``S3Storage.presigned_post``) and the
fake sign; :mod:`buckets.post_verify` checks a posted form against S3's rules (the local
fake S3 does), so a policy the fake accepts is one S3 accepts. Its public names are
re-exported here. Pure functions: the clock (``now``) is passed in.

The policy is base64 of a JSON object with ``expiration`` (ISO 8601, UTC, ``Z``) and
``conditions``; its SigV4 signature is the hex HMAC of the base64 text (see
:mod:`buckets.signing`).
"""

from __future__ import annotations

import base64
import datetime
import json
import re
from collections.abc import Iterable

from . import signing
from .post_verify import PostError, VerifiedPost, utc, verify_post

__all__ = [
    "DEFAULT_EXPIRES",
    "S3_MAX_POST_SIZE",
    "PolicyError",
    "PostError",
    "VerifiedPost",
    "build_post_policy",
    "content_type_allowed",
    "is_script_capable",
    "normalize_content_type",
    "verify_post",
]

DEFAULT_EXPIRES = 600
S3_MAX_POST_SIZE = 5 * 1024**3  # S3 refuses a single POST/PUT above 5 GiB.
EXPIRATION_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
SUCCESS_STATUSES = frozenset({"200", "201", "204"})
#: The ``Content-Disposition`` a script-capable upload is pinned to (S3 stores and serves it).
ATTACHMENT = "attachment"

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
# type/subtype, with at most a charset: browsers read "a/b;,text/html" as a list of types
# and use the last, so any other parameter could smuggle a second type past the check.
_CONTENT_TYPE_RE = re.compile(
    rf"({_TOKEN}/{_TOKEN})(?:\s*;\s*charset=([A-Za-z0-9._:-]{{1,40}}))?\Z", re.IGNORECASE
)
MAX_CONTENT_TYPE = 255
# Types a browser runs script in (or may, through XSLT) when they are opened.
_SCRIPT_CAPABLE = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "text/xml",
        "application/xml",
        "text/xsl",
        "text/javascript",
        "application/javascript",
        "application/ecmascript",
        "text/ecmascript",
        "application/x-shockwave-flash",
        "multipart/x-mixed-replace",
    }
)


class PolicyError(ValueError):
    """The caller asked for a policy that cannot or must not be built."""


def normalize_content_type(content_type: str) -> str | None:
    """``type/subtype`` in lower case, with ``; charset=...`` kept if given; None for
    anything else (other parameters, lists, control characters, over 255 characters)."""
    if len(content_type) > MAX_CONTENT_TYPE:
        return None
    match = _CONTENT_TYPE_RE.match(content_type.strip())
    if match is None:
        return None
    essence, charset = match.group(1).lower(), match.group(2)
    return f"{essence}; charset={charset.lower()}" if charset else essence


def is_script_capable(content_type: str) -> bool:
    """Whether a browser opening an object of this type may run script in it (HTML, SVG
    and other XML, JavaScript): such types are never matched by a wildcard."""
    essence = content_type.split(";", 1)[0].strip().lower()
    return essence in _SCRIPT_CAPABLE or essence.endswith(("+xml", "/xml"))


def content_type_allowed(content_type: str, accept: Iterable[str]) -> bool:
    """Whether a declared Content-Type matches one of the accepted patterns.

    Patterns are MIME types (``application/pdf``), ``type/*`` wildcards or
    ``*``/``*/*``; case is ignored, as MIME types are case-insensitive. Only a valid
    ``type/subtype`` (optionally with a charset) matches, and a script-capable type
    (``image/svg+xml``, ``text/html``...) only when listed exactly: ``image/*`` means
    pictures, not documents that run code on the bucket's origin.
    """
    normalized = normalize_content_type(content_type)
    if normalized is None:
        return False
    essence = normalized.split(";", 1)[0]
    wildcard_ok = not is_script_capable(essence)
    for pattern in (p.strip().lower() for p in accept):
        if pattern == essence:
            return True
        if pattern in ("*", "*/*") and wildcard_ok:
            return True
        if pattern.endswith("/*") and essence.startswith(pattern[:-1]) and wildcard_ok:
            return True
    return False


def _content_type_condition(
    content_type: str | None, accept: Iterable[str] | None
) -> tuple[list[str] | None, str | None]:
    """Choose the Content-Type condition and the value to put in the form.

    A policy cannot OR conditions, so a list of accepted types is enforced by
    checking the type the client declares against the list here and pinning
    it, normalized, with ``eq``. Without a declared type, only a single exact
    accepted type can be pinned; a wildcard needs a declared type (a
    ``starts-with`` condition would let the client send ``image/svg+xml`` or
    ``image/png;,text/html``).
    """
    patterns = [p.strip() for p in accept or () if p.strip()]
    if any(p in ("*", "*/*") for p in patterns):
        patterns = []  # no restriction
    if content_type is not None:
        normalized = normalize_content_type(content_type)
        if normalized is None:
            raise PolicyError(f"Invalid content type: {content_type!r}")
        if patterns and not content_type_allowed(normalized, patterns):
            raise PolicyError(f"Content type {content_type!r} is not accepted")
        return ["eq", "$Content-Type", normalized], normalized
    if not patterns:
        return None, None
    only = patterns[0]
    if len(patterns) > 1 or "*" in only:
        raise PolicyError(
            "A content type must be declared when several types or a wildcard are accepted"
        )
    normalized = normalize_content_type(only)
    if normalized is None:
        raise PolicyError(f"Invalid accepted type: {only!r}")
    return ["eq", "$Content-Type", normalized], normalized


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
    client posts before the file (``key``, ``Content-Type`` when pinned,
    ``Content-Disposition``, ``success_action_status`` when set, the ``x-amz-*``
    fields, ``policy``, ``x-amz-signature``). The key is pinned with ``eq``, the
    size with ``content-length-range`` (inclusive), the type as
    :func:`_content_type_condition` explains. A script-capable type (HTML, SVG, XML,
    JavaScript: :func:`is_script_capable`) is also pinned to ``Content-Disposition:
    attachment``, which S3 stores and serves with the object: opened from its URL, it
    downloads instead of running as a page on the bucket's origin. Raises :class:`PolicyError` for
    a request that must not be signed (a declared type outside ``accept``...).
    """
    if not key:
        raise PolicyError("The key must not be empty")
    if "${filename}" in key:
        raise PolicyError("The key must not contain ${filename}: S3 would substitute it")
    if len(key.encode("utf-8")) > 1024:
        raise PolicyError("S3 keys are at most 1024 bytes")
    if not 0 <= min_size <= max_size:
        raise PolicyError(f"Invalid size range: {min_size}..{max_size}")
    if expires <= 0:
        raise PolicyError("expires must be positive")
    status = None if success_action_status is None else str(success_action_status)
    if status is not None and status not in SUCCESS_STATUSES:
        raise PolicyError("success_action_status must be 200, 201 or 204")

    now = utc(now)
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
    if ct_condition is not None:
        conditions.append(ct_condition)
    if ct_value is not None:
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
    policy_b64 = base64.b64encode(
        json.dumps(document, separators=(",", ":")).encode("utf-8")
    ).decode("ascii")
    fields["policy"] = policy_b64
    fields["x-amz-signature"] = signing.sign_policy(
        policy_b64, secret_key, date_stamp, region, service
    )
    return fields, document
