"""CloudFront signed URLs (``cloudfront_key_id``, ``cloudfront_key``): the ``cloudfront``
extra, ``pip install 'django-buckets-s3[cloudfront]'``.

botocore's ``CloudFrontSigner`` writes the canned policy and the URL; the RSA signature
(PKCS #1 v1.5 with SHA-1, what CloudFront verifies) is the ``cryptography`` package's, never
this project's. The key was checked when the settings were resolved
(:func:`buckets.conf.values.cloudfront_key`).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from botocore.signers import CloudFrontSigner

__all__ = ["new_signer", "signed_url"]


def new_signer(key_id: str, pem: str | bytes) -> CloudFrontSigner:
    """A signer for URLs of the CloudFront key pair ``key_id`` with private key ``pem``."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(pem.encode("ascii") if isinstance(pem, str) else pem, None)
    assert isinstance(key, rsa.RSAPrivateKey)  # checked by buckets.conf.values

    def rsa_sign(message: bytes) -> bytes:
        return key.sign(message, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303 -- CloudFront's

    return CloudFrontSigner(key_id, rsa_sign)


def signed_url(signer: Any, url: str, expires_in: int) -> str:
    """``url`` signed to be valid for ``expires_in`` seconds from now (canned policy)."""
    until = datetime.now(timezone.utc) + timedelta(seconds=expires_in)
    return str(signer.generate_presigned_url(url, date_less_than=until))
