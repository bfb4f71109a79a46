"""django-storages' own ways of naming options, for projects moving over unchanged.

django-storages (1.14) reads its S3 options from global Django settings (``AWS_*``, and
``GZIP_CONTENT_TYPES``), from ``STORAGES`` ``OPTIONS`` and from class attributes of a
storage subclass. The global names of the options django-buckets shares are a column of
the option table (``option(setting=...)`` in :mod:`buckets.conf`); this module holds what
has no meaning here: each such name with the value that changes nothing (django-storages'
default, accepted so that a copied settings file does not fail over a no-op) and what to do
instead. Any other value is an error naming the setting, never silently ignored.

``AWS_*`` names django-storages never had are left alone: other libraries (django-ses,
boto3 scripts) keep their settings under the same prefix.
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["ENVIRONMENT", "NO_MEANING", "NoMeaning", "refusal", "setting_refusal"]

#: The environment variables django-storages reads when no setting is set, by option.
#: (boto3's credential chain reads ``AWS_ACCESS_KEY_ID`` and the others itself.)
ENVIRONMENT = {
    "access_key": "AWS_S3_ACCESS_KEY_ID",
    "secret_key": "AWS_S3_SECRET_ACCESS_KEY",
    "session_profile": "AWS_S3_SESSION_PROFILE",
}

_UNSET = object()


@dataclasses.dataclass(frozen=True)
class NoMeaning:
    """A django-storages option or setting with no meaning here."""

    #: Its global setting, or None when django-storages has none.
    setting: str | None
    #: What to do instead (a sentence).
    advice: str
    #: A value that changes nothing, accepted silently; ``_UNSET`` when every value matters.
    harmless: Any = _UNSET


#: By option name (as in ``OPTIONS`` or a class attribute); the global-only ones by their
#: setting name (django-storages removed them, but settings files still carry them).
NO_MEANING: dict[str, NoMeaning] = {
    "file_name_charset": NoMeaning(
        "AWS_S3_FILE_NAME_CHARSET", "Keys are always UTF-8 here: remove it.", "utf-8"
    ),
    "use_threads": NoMeaning(
        "AWS_S3_USE_THREADS",
        "Set transfer_config=boto3.s3.transfer.TransferConfig(use_threads=False) instead.",
        True,
    ),
    "config": NoMeaning(None, "It is django-storages' deprecated name: rename it client_config."),
    "cloudfront_signer": NoMeaning(
        None, "Set cloudfront_key_id and cloudfront_key (the PEM private key) instead."
    ),
    "default_content_type": NoMeaning(
        None,
        "Objects whose type is not known are application/octet-stream; set ContentType "
        "in object_parameters to force one type.",
        "application/octet-stream",
    ),
    "AWS_S3_FILE_BUFFER_SIZE": NoMeaning(
        "AWS_S3_FILE_BUFFER_SIZE",
        "Part sizes are transfer_config's multipart_chunksize: set "
        "transfer_config=TransferConfig(multipart_chunksize=...) instead.",
        5 * 1024 * 1024,
    ),
    "AWS_HEADERS": NoMeaning(
        "AWS_HEADERS", "Set AWS_S3_OBJECT_PARAMETERS (boto3's PutObject arguments) instead."
    ),
    "AWS_S3_SECURE_URLS": NoMeaning(
        "AWS_S3_SECURE_URLS", "Set AWS_S3_URL_PROTOCOL ('https:' or 'http:') instead.", True
    ),
    "AWS_S3_HOST": NoMeaning("AWS_S3_HOST", "Set AWS_S3_ENDPOINT_URL instead."),
    "AWS_S3_CALLING_FORMAT": NoMeaning(
        "AWS_S3_CALLING_FORMAT", "Set AWS_S3_ADDRESSING_STYLE ('path' or 'virtual') instead."
    ),
    "AWS_AUTO_CREATE_BUCKET": NoMeaning(
        "AWS_AUTO_CREATE_BUCKET", "Create the bucket beforehand and remove it.", False
    ),
    "AWS_BUCKET_ACL": NoMeaning(
        "AWS_BUCKET_ACL", "Set the bucket's policy on S3 itself and remove it."
    ),
    "AWS_PRELOAD_METADATA": NoMeaning("AWS_PRELOAD_METADATA", "Remove it.", False),
    "AWS_REDUCED_REDUNDANCY": NoMeaning(
        "AWS_REDUCED_REDUNDANCY",
        "Set AWS_S3_OBJECT_PARAMETERS = {'StorageClass': 'REDUCED_REDUNDANCY'} instead.",
        False,
    ),
    "AWS_S3_ENCRYPTION": NoMeaning(
        "AWS_S3_ENCRYPTION",
        "Set AWS_S3_OBJECT_PARAMETERS = {'ServerSideEncryption': 'AES256'} instead.",
        False,
    ),
}


def refusal(name: str, value: Any, where: str) -> str | None:
    """The error message for the option ``name`` given as ``value`` in ``where`` (``"The
    storage option"``, ``"The class attribute"``), or None when it has a meaning here or
    ``value`` changes nothing."""
    row = NO_MEANING.get(name)
    if row is None or not name.islower():
        return None
    return _message(row, name, value, where)


def setting_refusal(settings: Any) -> str | None:
    """The error message for the first global setting in ``settings`` that has no meaning
    here and a value that would change something, or None."""
    for row in NO_MEANING.values():
        if row.setting is not None:
            message = _message(
                row, row.setting, getattr(settings, row.setting, _UNSET), "The setting"
            )
            if message is not None:
                return message
    return None


def _message(row: NoMeaning, name: str, value: Any, where: str) -> str | None:
    if value is _UNSET or (row.harmless is not _UNSET and value == row.harmless):
        return None
    return f"{where} {name} is django-storages' and has no meaning in django-buckets. {row.advice}"
