"""Which Content-Type an upload is signed with: the one rule the signers, the local fake, the
upload view and the widget's script apply (the script receives :func:`type_rules`).

S3 stores and serves an object with the type its POST policy pins, from the bucket's origin:
a type a browser sniffs, renders as a page or runs as code would turn an upload into script
on that origin. So a type is signed as itself only when well-formed, a file type, neither
sniffed nor code, and accepted by the field; anything else is refused or stored as
``application/octet-stream`` (:func:`signed_content_type` says which).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "CONTENT_TYPE_SYNTAX",
    "HTTP_WHITESPACE",
    "MAX_CONTENT_TYPE",
    "OPAQUE_CONTENT_TYPE",
    "RUNNABLE_TYPES",
    "SCRIPT_CAPABLE_SUFFIXES",
    "SCRIPT_CAPABLE_TYPES",
    "SIGNABLE_ESSENCE_SYNTAX",
    "SIGNABLE_TOP_LEVEL_TYPES",
    "SNIFFED_TYPES",
    "accept_patterns",
    "content_type_allowed",
    "is_script_capable",
    "normalize_content_type",
    "signed_content_type",
    "type_rules",
]

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
#: The syntax of a declared Content-Type (the widget's script applies the same expression):
#: ``type/subtype``, with at most a charset. Browsers read "a/b;,text/html" as a list of types
#: and use the last, so any other parameter could smuggle a second type past the check. Case
#: is ignored for ASCII letters only (``re.ASCII``: no Kelvin sign standing for a "k").
CONTENT_TYPE_SYNTAX = rf"({_TOKEN}/{_TOKEN})(?:[ \t]*;[ \t]*charset=([A-Za-z0-9._:-]{{1,40}}))?"
_CONTENT_TYPE_RE = re.compile(CONTENT_TYPE_SYNTAX, re.IGNORECASE | re.ASCII)
#: HTTP whitespace, the only characters stripped around a declared type.
HTTP_WHITESPACE = " \t\r\n"
MAX_CONTENT_TYPE = 255

#: What an upload is stored as when its own type may not be signed (see
#: :func:`signed_content_type`): every browser downloads it, never sniffs it for HTML, never
#: runs it.
OPAQUE_CONTENT_TYPE = "application/octet-stream"
#: The shape of a type that may be signed as itself: RFC 6838 restricted names, lower case (no
#: ``*``, no ``%``, no quote), under a top-level type of files (IANA's registry less
#: ``multipart``, ``message`` and ``example``: browsers render ``multipart/x-mixed-replace``
#: and MHTML; an unregistered top level such as ``unknown`` is sniffed).
_RESTRICTED_NAME = r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}"
SIGNABLE_ESSENCE_SYNTAX = rf"({_RESTRICTED_NAME})/{_RESTRICTED_NAME}"
_SIGNABLE_ESSENCE_RE = re.compile(SIGNABLE_ESSENCE_SYNTAX, re.ASCII)
SIGNABLE_TOP_LEVEL_TYPES = ("application", "audio", "font", "image", "model", "text", "video")
#: Types a browser sniffs: served with one of these (or with none), a body that looks like HTML
#: is rendered as HTML (WHATWG MIME Sniffing, "MIME type sniffing algorithm"; Chromium's
#: ``IsUnknownMimeType`` also sniffs a type without ``/``, which never passes the syntax).
SNIFFED_TYPES = ("unknown/unknown", "application/unknown", "*/*")
#: Code a page on the bucket's origin, or one whose CSP trusts it, can load and run: every
#: JavaScript MIME type essence the WHATWG lists (module scripts and workers need one of
#: these), and WebAssembly (``instantiateStreaming`` needs its type).
RUNNABLE_TYPES = (
    "application/ecmascript",
    "application/javascript",
    "application/x-ecmascript",
    "application/x-javascript",
    "text/ecmascript",
    "text/javascript",
    "text/javascript1.0",
    "text/javascript1.1",
    "text/javascript1.2",
    "text/javascript1.3",
    "text/javascript1.4",
    "text/javascript1.5",
    "text/jscript",
    "text/livescript",
    "text/x-ecmascript",
    "text/x-javascript",
    "application/wasm",
)
#: Types a browser runs script in (or may, through XSLT) when they are opened: a wildcard never
#: matches them, and listed exactly they are pinned to ``Content-Disposition: attachment``.
SCRIPT_CAPABLE_TYPES = (
    "text/html",
    "application/xhtml+xml",
    "text/xml",
    "application/xml",
    "text/xsl",
    "application/x-shockwave-flash",
    "multipart/x-mixed-replace",
    *RUNNABLE_TYPES,
)
SCRIPT_CAPABLE_SUFFIXES = ("+xml", "/xml")
# The same lists as sets, for lookups (the tuples keep the order the widget receives).
_TOP_LEVEL = frozenset(SIGNABLE_TOP_LEVEL_TYPES)
_SNIFFED = frozenset(SNIFFED_TYPES)
_RUNNABLE = frozenset(RUNNABLE_TYPES)
_SCRIPT_CAPABLE = frozenset(SCRIPT_CAPABLE_TYPES)


def normalize_content_type(content_type: str) -> str | None:
    """``type/subtype`` in lower case, with ``; charset=...`` kept if given; None for
    anything else (other parameters, lists, control characters, over 255 characters)."""
    if len(content_type) > MAX_CONTENT_TYPE:
        return None
    return _normalize(content_type)


@functools.lru_cache(maxsize=256)
def _normalize(content_type: str) -> str | None:
    """:func:`normalize_content_type` of a string of at most ``MAX_CONTENT_TYPE``
    characters, remembered: a site signs the same few types over and over."""
    match = _CONTENT_TYPE_RE.fullmatch(content_type.strip(HTTP_WHITESPACE))
    if match is None:
        return None
    essence, charset = match.group(1).lower(), match.group(2)
    return f"{essence}; charset={charset.lower()}" if charset else essence


def is_script_capable(content_type: str) -> bool:
    """Whether a browser opening an object of this type may run script in it (HTML, SVG
    and other XML, JavaScript): such types are never matched by a wildcard."""
    essence = content_type.split(";", 1)[0].strip(HTTP_WHITESPACE).lower()
    return essence in _SCRIPT_CAPABLE or essence.endswith(SCRIPT_CAPABLE_SUFFIXES)


def _signable_as_itself(essence: str) -> bool:
    """Whether a (lower-case) essence has the shape of a type that may be signed as itself:
    a file type no browser sniffs and no page runs as code."""
    match = _SIGNABLE_ESSENCE_RE.fullmatch(essence)
    return (
        match is not None
        and match.group(1) in _TOP_LEVEL
        and essence not in _SNIFFED
        and essence not in _RUNNABLE
    )


def accept_patterns(accept: Iterable[str] | None) -> tuple[str, ...] | None:
    """A field's accepted types, stripped and in lower case; None when it accepts any type
    (no patterns, or one of them ``*`` or ``*/*``)."""
    patterns = tuple(p.strip().lower() for p in accept or () if p.strip())
    if not patterns or any(p in ("*", "*/*") for p in patterns):
        return None
    return patterns


def signed_content_type(
    content_type: str | None, accept: Iterable[str] | None = None
) -> str | None:
    """The Content-Type an upload is signed (and so stored and served) with; None when it
    must not be signed. The one rule for every signer, the fake, and the widget's script
    (which receives :func:`type_rules`).

    A type is signed as itself only in a safe shape (:func:`_signable_as_itself`: well-formed,
    a file type, neither sniffed nor code) and, when the field lists types, when a pattern
    matches it: a wildcard (``image/*``) only a type no browser runs script in, an exact
    pattern also one that does (HTML, SVG, XML; pinned as an attachment). So:

    * a field that accepts any type (no ``accept``, or ``*``) signs every other valid type
      (``application/unknown``, ``*/*``, ``text/javascript``, ``text/html``...) as
      ``application/octet-stream``: the file is kept, as bytes every browser downloads;
    * a field that lists types refuses them (None): they are not the kinds it asked for.

    ``content_type`` None (nothing declared, nothing implied by the file name):
    ``application/octet-stream`` for a field that accepts any type, the one exact type a
    field accepts, else None (the client must declare the type). A malformed type is None.
    """
    patterns = accept_patterns(accept)
    if content_type is None:
        if patterns is None:
            return OPAQUE_CONTENT_TYPE
        if len(patterns) != 1 or "*" in patterns[0]:
            return None
        content_type = patterns[0]
    normalized = normalize_content_type(content_type)
    if normalized is None:
        return None
    essence = normalized.split(";", 1)[0]
    itself = _signable_as_itself(essence)
    inert = itself and not is_script_capable(essence)
    if patterns is None:
        return normalized if inert else OPAQUE_CONTENT_TYPE
    for pattern in patterns:
        if pattern == essence and itself:
            return normalized
        if pattern.endswith("/*") and essence.startswith(pattern[:-1]) and inert:
            return normalized
    return None


def content_type_allowed(content_type: str, accept: Iterable[str] | None) -> bool:
    """Whether an upload declared as ``content_type`` is signed as that type (normalized)
    for a field accepting ``accept``; False when it would be refused or stored as
    ``application/octet-stream`` (see :func:`signed_content_type`)."""
    normalized = normalize_content_type(content_type)
    return normalized is not None and signed_content_type(normalized, accept) == normalized


def type_rules(accept: Iterable[str] | None) -> dict[str, Any]:
    """The data :func:`signed_content_type` decides with, as JSON for the widget's script,
    which applies the same steps to the type the browser reports for a chosen file."""
    patterns = accept_patterns(accept)
    return {
        "accept": None if patterns is None else list(patterns),
        "syntax": CONTENT_TYPE_SYNTAX,
        "whitespace": HTTP_WHITESPACE,
        "maxLength": MAX_CONTENT_TYPE,
        "signable": SIGNABLE_ESSENCE_SYNTAX,
        "topLevel": list(SIGNABLE_TOP_LEVEL_TYPES),
        "sniffed": list(SNIFFED_TYPES),
        "runnable": list(RUNNABLE_TYPES),
        "scriptCapable": list(SCRIPT_CAPABLE_TYPES),
        "scriptCapableSuffixes": list(SCRIPT_CAPABLE_SUFFIXES),
        "opaque": OPAQUE_CONTENT_TYPE,
    }
