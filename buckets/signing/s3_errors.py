"""S3's error answers, as the verifiers (:mod:`~buckets.signing.post_verify`,
:mod:`~buckets.signing.url_verify`) return them: a value, not an exception, carrying what
S3's ``<Error>`` response says (code, HTTP status, message, extra elements), so a caller
answers with it as S3 would, and gets the first failed rule without catching anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["PostError", "signature_mismatch", "unknown_access_key"]


@dataclass(frozen=True)
class PostError:
    """An S3 error answer: ``<Error><Code>`` and the HTTP status to send."""

    code: str
    status: int
    message: str
    extra: Mapping[str, str] = field(default_factory=dict)  # e.g. MaxSizeAllowed

    @property
    def ok(self) -> bool:
        return False


def signature_mismatch() -> PostError:
    """403 ``SignatureDoesNotMatch``: the signature is not the one the secret gives."""
    return PostError(
        "SignatureDoesNotMatch",
        403,
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
    )


def unknown_access_key(access_key: str) -> PostError:
    """403 ``InvalidAccessKeyId``: no secret is known for ``access_key``."""
    message = "The AWS Access Key Id you provided does not exist in our records."
    return PostError("InvalidAccessKeyId", 403, message, {"AWSAccessKeyId": access_key})
