"""Signing: AWS Signature Version 4 query URLs and POST policies, signed and verified.

Pure functions of their arguments (no Django settings, no boto3 client, no storage), so
signing and verifying share one implementation of S3's rules, and what one side signs the
other accepts: ``sigv4`` (keys, scopes, query signatures), ``post_policy`` (build a POST
policy), ``content_types`` (which Content-Type an upload is signed with), ``post_verify``
and ``url_verify`` (check a POST form or a pre-signed URL as S3 does), ``s3_errors`` (S3's
error answers), ``limits`` (S3's numeric limits) and ``numbers`` (bounded decimal parsing).
"""

from __future__ import annotations

from buckets.signing.sigv4 import (
    ALGORITHM,
    UNSIGNED_PAYLOAD,
    amz_date,
    credential,
    credential_scope,
    host_header,
    parse_credential,
    presign_url,
    query_signature,
    quote_path,
    quote_query,
    sign_policy,
    signing_key,
    verify_policy_signature,
)

__all__ = [
    "ALGORITHM",
    "UNSIGNED_PAYLOAD",
    "amz_date",
    "credential",
    "credential_scope",
    "host_header",
    "parse_credential",
    "presign_url",
    "query_signature",
    "quote_path",
    "quote_query",
    "sign_policy",
    "signing_key",
    "verify_policy_signature",
]
