"""The rules a direct upload is held to before it is signed: how long a client string may
be, how large the file, which types a field accepts and which type an upload is signed with.

Each rule is defined here once (on top of the pure policy rules of
:mod:`buckets.signing.content_types` and the storage's ``S3Settings``); the signed-URL view,
the model and form fields, the widget and the pytest plugin call these functions rather
than restating them, so what the widget announces, what the view signs and what a test
upload accepts cannot drift apart.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from buckets.conf import S3Settings
from buckets.signing.content_types import accept_patterns, signed_content_type
from buckets.signing.limits import MAX_KEY_BYTES
from buckets.uploads.wording import describe_types, size_pair

__all__ = [
    "MAX_INPUT_LENGTH",
    "ContentTypeRefused",
    "accepted_patterns",
    "declared_types",
    "file_too_large",
    "upload_content_type",
    "upload_size_limit",
]

#: Longest client string (a file name, a field token, a staging name) the uploads side looks
#: into, in characters: a longer one is refused before it is cleaned, normalised or matched,
#: as the cost of Unicode normalisation grows faster than the length of its input. Nothing
#: valid is longer: no S3 key is, and no token made here.
MAX_INPUT_LENGTH = MAX_KEY_BYTES


class ContentTypeRefused(ValueError):
    """No Content-Type may be signed for this upload; the message says why, for the user."""


def upload_size_limit(field: Any, storage: Any, *, multipart: bool = False) -> int:
    """The largest file, in bytes, a direct upload for ``field`` (None: an upload for no
    field) to ``storage`` may be: the field's ``max_size``, capped by the storage's
    ``MAX_FILE_SIZE``, capped by S3's limit for the path, one POST (5 GiB) or a
    ``multipart`` upload (5 TiB) (:meth:`buckets.conf.S3Settings.upload_size_limit`).

    ``ImproperlyConfigured`` for a storage that takes no direct uploads (it has no
    ``S3Settings``).
    """
    settings = getattr(storage, "settings", None)
    if not isinstance(settings, S3Settings):
        raise ImproperlyConfigured(f"{storage!r} takes no direct uploads: it has no S3Settings.")
    max_size = getattr(field, "max_size", None) or None
    return settings.upload_size_limit(max_size, multipart=multipart)


def file_too_large(size: int, limit: int) -> str:
    """The message for a declared ``size`` over the upload's ``limit``
    (:func:`upload_size_limit`), for the user."""
    said, most = size_pair(size, limit)
    return _("The file is too large (%(size)s); the limit is %(limit)s.") % {
        "size": said,
        "limit": most,
    }


def declared_types(accepted_types: str | Sequence[str] | None) -> list[str] | None:
    """An ``accepted_types`` argument as an ``S3FileField`` keeps it (and ``deconstruct()``
    writes it into migrations): one string split at its commas, each item stripped, empty
    items dropped; None when nothing is left. Written as declared (case kept), so that a
    migration does not change; :func:`accepted_patterns` is what uploads are matched with.
    """
    if not accepted_types:
        return None
    items = accepted_types.split(",") if isinstance(accepted_types, str) else accepted_types
    types = [t.strip() if isinstance(t, str) else t for t in items]
    return [t for t in types if t != ""] or None


def accepted_patterns(field: Any) -> list[str]:
    """The patterns an upload's type is matched with for ``field`` (None: an upload for no
    field), as the policy matches them (:func:`buckets.signing.content_types.accept_patterns`:
    lower case); empty when it accepts any type."""
    declared = declared_types(getattr(field, "accepted_types", None))
    return list(accept_patterns(declared) or ())


def upload_content_type(
    field: Any,
    filename: str,
    content_type: str | None = None,
    *,
    accepted: list[str] | None = None,
) -> str:
    """The Content-Type an upload of ``filename`` for ``field`` (None: no field) is signed,
    and so stored and served, with: the declared ``content_type``, else the one the file
    name implies, as :func:`buckets.signing.content_types.signed_content_type` signs it (a
    type a browser sniffs or runs is stored as ``application/octet-stream`` by a field that
    accepts any type, and refused by one that lists types).

    If nothing was declared and the name implies nothing, a field that accepts any type
    stores ``application/octet-stream`` and one with a single exact type pins that type;
    otherwise the client must declare the type. :class:`ContentTypeRefused`, with the
    message the signed-URL view answers, when nothing may be signed. ``accepted``: the
    field's :func:`accepted_patterns`, when the caller has them already.
    """
    if accepted is None:
        accepted = accepted_patterns(field)
    if content_type is None:
        content_type = mimetypes.guess_type(filename, strict=False)[0]
    if content_type is None:
        signed = signed_content_type(None, accepted)
        if signed is None:
            raise ContentTypeRefused(
                _("Declare the file's content type. Accepted: %(names)s (%(patterns)s).")
                % _accepted_wording(accepted)
            )
        return signed
    signed = signed_content_type(content_type, accepted)
    if signed is None:
        raise ContentTypeRefused(
            _("Files of type %(type)s are not accepted here. Accepted: %(names)s (%(patterns)s).")
            % {"type": content_type, **_accepted_wording(accepted)}
        )
    return signed


def _accepted_wording(accepted: list[str]) -> dict[str, str]:
    """The accepted types named for a person, with the patterns an API client declares
    types against: worded only for a refusal."""
    return {"names": describe_types(accepted), "patterns": ", ".join(accepted)}
