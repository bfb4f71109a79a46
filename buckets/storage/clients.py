"""boto3 sessions, client configuration and transfer configuration made from the settings.

What ``S3Storage`` connects with, and what the system check builds to try the settings
out without any network I/O: one definition for both, so the check tries the very client
the storage will use.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
import botocore.utils
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

if TYPE_CHECKING:
    from buckets import conf

__all__ = ["client_config", "new_client", "new_session", "parse_timestamp", "transfer_config"]


def new_session(settings: conf.S3Settings, *, loader: Any = None) -> boto3.session.Session:
    """A boto3 session with the configured credentials, profile and region
    (``ProfileNotFound`` for a missing ``session_profile``).

    ``loader``: a botocore data loader to read service models with. Sessions made to be
    thrown away (the system check makes one per storage) share one, so S3's service model
    is parsed once per process rather than once per session.
    """
    botocore_session = botocore.session.get_session()
    if loader is not None:
        botocore_session.register_component("data_loader", loader)
    parsers = botocore_session.get_component("response_parser_factory")
    parsers.set_parser_defaults(timestamp_parser=parse_timestamp)
    session = boto3.session.Session(
        aws_access_key_id=settings.access_key,
        aws_secret_access_key=settings.secret_key,
        aws_session_token=settings.security_token,
        profile_name=settings.session_profile,
        region_name=settings.region_name,
        botocore_session=botocore_session,
    )
    if loader is not None:  # boto3 adds its data directory to the path of every session
        loader.search_paths[:] = dict.fromkeys(loader.search_paths)
    return session


def parse_timestamp(value: str) -> datetime:
    """A timestamp of a response as a timezone-aware datetime, as botocore's own parser
    gives it, but the ISO 8601 form of listings (``2024-01-31T12:00:00.000Z``) read without
    dateutil: a listing of thousands of objects is parsed in a fraction of the time. Any
    other form (HTTP dates of headers, epoch seconds) goes to botocore's parser."""
    if value.endswith("Z"):
        try:
            parsed = datetime.fromisoformat(value[:-1])
        except ValueError:
            pass
        else:
            return parsed.replace(tzinfo=timezone.utc)
    return botocore.utils.parse_timestamp(value)


def new_client(
    session: boto3.session.Session,
    settings: conf.S3Settings,
    *,
    more_config: Config | None = None,
    **credentials: Any,
) -> Any:
    """A boto3 S3 client of ``session`` for the configured endpoint (``use_ssl``: https
    unless the ``endpoint_url`` says otherwise, as botocore reads it), TLS verification and
    :func:`client_config` (``more_config`` merged in last, e.g. a larger connection pool for
    many threads); ``credentials`` (``aws_access_key_id``...) override the session's."""
    config = client_config(settings)
    return session.client(
        "s3",
        endpoint_url=settings.endpoint_url,
        use_ssl=settings.use_ssl,
        verify=settings.verify,
        config=config if more_config is None else config.merge(more_config),
        **credentials,
    )


def client_config(settings: conf.S3Settings) -> Config:
    """The botocore ``Config`` of the storage's clients: the settings' signature version,
    timeouts, retries, addressing style and proxies, merged with ``client_config`` (which
    wins)."""
    config = Config(
        signature_version=settings.signature_version,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        retries={"max_attempts": settings.max_attempts, "mode": "standard"},
        s3={"addressing_style": settings.addressing_style} if settings.addressing_style else None,
        proxies=dict(settings.proxies) if settings.proxies else None,
    )
    if settings.client_config is not None:
        config = config.merge(settings.client_config)
    return config


def transfer_config(settings: conf.S3Settings) -> TransferConfig:
    """boto3's managed-transfer settings: ``transfer_config``, else boto3's defaults with
    fewer parts of a stream held in memory: enough to keep the connection busy, far less
    memory per upload."""
    if settings.transfer_config is not None:
        return settings.transfer_config
    config = TransferConfig()
    config.max_in_memory_upload_chunks = 4
    return config
