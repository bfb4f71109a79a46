"""``FakeUrlsMixin``: the URL and upload half of ``FakeS3Storage``, and where the fake lives.

Objects are served at ``MEDIA_URL`` (``/media/`` when unset) + ``s3/uploads/`` + the
quoted key, pre-signed with SigV4 as ``S3Storage`` signs them; browsers POST uploads to
the same path without the key. ``name_from_url`` maps such a URL back to a name, and
takes an absolute URL as the fake's own only on a host the settings name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from django.conf import settings as django_settings
from django.core.exceptions import SuspiciousFileOperation
from django.http.request import split_domain_port, validate_host

from buckets.signing import sigv4 as signing
from buckets.storage.base import BucketStorage, name_type_error
from buckets.storage.keys import name_to_key
from buckets.storage.object_urls import query_params

if TYPE_CHECKING:
    from buckets.test.disk import Disk

    _Base = BucketStorage
else:
    _Base = object

__all__ = ["URL_PATH", "FakeUrlsMixin", "media_path", "media_url", "own_hosts"]

#: The object URL path under ``MEDIA_URL`` (the upload endpoint is the same without the key).
URL_PATH = "s3/uploads/"


def own_hosts() -> list[str]:
    """The hosts whose absolute URLs the fake takes as its own (``validate_host`` patterns).

    ``ALLOWED_HOSTS`` without ``"*"``: a wildcard says which ``Host`` headers the site
    answers, not which hosts are the site's, so it makes no other host's URL ours. A
    ``.example.com`` entry names a domain the site owner listed and stays. With ``DEBUG``
    and no ``ALLOWED_HOSTS``, Django's development hosts (``.localhost``, ``127.0.0.1``,
    ``[::1]``).
    """
    allowed = list(django_settings.ALLOWED_HOSTS)
    if django_settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return [host for host in allowed if host != "*"]


def media_url() -> str:
    """``MEDIA_URL``, or ``/media/`` when unset: the fake always has somewhere to live.

    Django turns an unset (empty) ``MEDIA_URL`` into the script prefix, ``/``; that counts as
    unset too, or the fake would claim the site's root.
    """
    url = django_settings.MEDIA_URL
    if url in ("", "/"):
        url = "/media/"
    return url if url.endswith("/") else url + "/"


def media_path() -> str:
    """The path part of ``MEDIA_URL`` without the leading ``/`` (for URL patterns)."""
    return urlsplit(media_url()).path.lstrip("/")


class FakeUrlsMixin(_Base):
    """Object URLs, the reverse map and upload signing; needs the fake's ``disk`` and
    ``region``."""

    if TYPE_CHECKING:

        @property
        def disk(self) -> Disk: ...
        @property
        def region(self) -> str: ...

    def base_url(self) -> str:
        """``MEDIA_URL`` + ``s3/uploads/``: objects are served below it."""
        return media_url() + URL_PATH

    def key_url(self, key: str) -> str:
        return self.base_url() + signing.quote_path(key)

    def url(  # type: ignore[override]
        self,
        name: str,
        parameters: dict[str, Any] | None = None,
        expire: int | None = None,
        http_method: str | None = None,
    ) -> str:
        """``MEDIA_URL`` + ``s3/uploads/`` + the quoted key, pre-signed with SigV4 as
        ``S3Storage`` signs (``querystring_auth``, the default: the fake's endpoint refuses
        unsigned reads), else plain, as a public bucket's (``parameters`` then dropped, as
        ``S3Storage`` drops them). A relative ``MEDIA_URL`` gives a relative URL, signed
        for no host: the endpoint accepts that."""
        if not isinstance(name, str):
            raise name_type_error(name)
        key = self._key(name)
        query = query_params(parameters)  # the same names and errors as S3Storage.url()
        s = self.settings
        if not s.querystring_auth:
            return self.key_url(key)
        expires = s.querystring_expire if expire is None else expire
        return self.presigned_key_url(key, expires, query, method=http_method or "GET")

    def presigned_key_url(
        self,
        key: str,
        expires: int,
        query: dict[str, str] | None,
        *,
        method: str,
        signed_headers: dict[str, str] | None = None,
    ) -> str:
        """``key``'s URL on the fake, pre-signed with SigV4 as ``S3Storage`` signs."""
        s = self.settings
        base = urlsplit(self.base_url())
        return signing.presign_url(
            scheme_host=f"{base.scheme}://{base.netloc}" if base.netloc else "",
            path=base.path + key,
            access_key=s.access_key or "",
            secret_key=s.secret_key or "",
            token=s.security_token,
            region=self.region,
            expires=expires,
            query=query,
            method=method,
            signed_headers=signed_headers,
        )

    def name_from_url(self, url: str) -> str | None:
        """The storage name behind a URL this storage produces, or None if it is not ours.

        Accepts the relative form, and absolute forms only on a host the settings name:
        ``MEDIA_URL``'s host when that is absolute, else a host ``ALLOWED_HOSTS`` lists
        (:func:`own_hosts`: ``"*"`` names no host, so with only ``"*"`` an absolute URL
        is never ours).
        """
        if not isinstance(url, str):
            return None
        parts = urlsplit(url)
        base = urlsplit(self.base_url())
        if parts.scheme or parts.netloc:
            if parts.scheme not in ("http", "https") or "@" in parts.netloc:
                return None
            if base.netloc:
                if parts.netloc.lower() != base.netloc.lower():
                    return None
            else:
                domain, _ = split_domain_port(parts.netloc.lower())
                if not domain or not validate_host(domain, own_hosts()):
                    return None
        elif not parts.path.startswith("/"):
            return None
        if not parts.path.startswith(base.path):
            return None
        try:
            key = unquote(parts.path[len(base.path) :], errors="strict")
        except UnicodeDecodeError:
            return None
        location = self.location
        if location:
            if not key.startswith(location + "/"):
                return None
            name = key[len(location) + 1 :]
        else:
            name = key
        try:
            self.disk.key_path(name_to_key(name, location))
        except (SuspiciousFileOperation, ValueError):
            return None
        return name

    def upload_url(self) -> str:
        """Where a browser POSTs uploads (no trailing slash, as ``S3Storage.upload_url``)."""
        return self.base_url().rstrip("/")

    def _post_signer(self, key: str) -> tuple[str, str, str | None, str]:
        """The configured keys (or the ones derived from SECRET_KEY), after checking the
        key is one the disk can hold."""
        self.disk.key_path(key)
        s = self.settings
        return s.access_key or "", s.secret_key or "", s.security_token, self.region
