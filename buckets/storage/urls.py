"""``S3UrlsMixin``: the URL and signing half of ``S3Storage``.

Everything here is computed from the settings and the credentials, never from the bucket:
object URLs (public, custom-domain or SigV4-signed), browser-upload POST policies, and the
reverse map from a URL back to a storage name. Kept apart from ``buckets.storage`` so the
object I/O (saves, opens, copies) and the URL side each read as one concept. The string
work itself lives in ``buckets.storage.object_urls``, ``buckets.signing.sigv4`` and
``buckets.signing.post_policy``; this mixin holds what is cached per storage and the public methods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from botocore.credentials import RefreshableCredentials
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import cached_property

from buckets.storage import cloudfront, object_urls
from buckets.storage.base import name_type_error

if TYPE_CHECKING:
    import boto3

    from buckets import conf


class S3UrlsMixin:
    """URLs, signed or not, and upload policies for an ``S3Storage``.

    Needs ``settings``, ``client``, ``_session``, ``bucket_name``, ``location`` and
    ``_key()`` from the storage. What it caches is listed in ``URL_CACHES``, which the
    storage drops when the settings change.
    """

    #: Cached attributes that depend on the settings or credentials.
    URL_CACHES = (
        "_url_template",
        "_url_forms",
        "_url_maker",
        "_static_credentials",
        "_cloudfront_signer",
    )

    if TYPE_CHECKING:

        @property
        def settings(self) -> conf.S3Settings: ...
        @property
        def client(self) -> Any: ...
        @property
        def _session(self) -> boto3.session.Session: ...
        @property
        def bucket_name(self) -> str: ...
        @property
        def location(self) -> str: ...
        def _key(self, name: str) -> str: ...

    # -- recognising our own URLs ----------------------------------------------------------

    def name_from_url(self, url: str) -> str | None:
        """The storage name behind any URL this storage makes, or None when it is not ours.

        Path-style, virtual-host and custom-domain URLs, signed or not, are recognised;
        anything on another host, in another bucket, outside ``location`` or with a path
        that escapes gives None. Nothing is fetched.
        """
        return object_urls.name_from_url(url, self._url_forms, self.location)

    @cached_property
    def _url_forms(self) -> list[tuple[str, str]]:
        s = self.settings
        host, prefix, region = self._url_template
        return object_urls.url_forms(
            bucket=self.bucket_name,
            template=(host, prefix),
            endpoint_url=s.endpoint_url,
            region=region,
            custom_domain=s.custom_domain,
        )

    # -- direct uploads --------------------------------------------------------------------

    def _signing_credentials(self) -> Any:
        """Current credentials, frozen so key and token match; refreshed ones stay current."""
        static = self.__dict__.get("_static_credentials")
        if static is not None:
            return static
        credentials = self._session.get_credentials()
        if credentials is None:
            raise ImproperlyConfigured(
                "Signing needs S3 credentials: set AWS['ACCESS_KEY'] and AWS['SECRET_KEY'] "
                "or provide them through boto3's credential chain."
            )
        frozen = credentials.get_frozen_credentials()
        if not isinstance(credentials, RefreshableCredentials):
            self.__dict__["_static_credentials"] = frozen
        return frozen

    def upload_url(self) -> str:
        """Where a browser POSTs uploads: the bucket's URL, no trailing slash."""
        host, prefix, _ = self._url_template
        return f"{host}{prefix.rstrip('/')}"

    def _post_signer(self, key: str) -> tuple[str, str, str | None, str]:
        """The credentials frozen now (they may rotate) and the bucket's region."""
        _, _, region = self._url_template
        frozen = self._signing_credentials()
        return frozen.access_key, frozen.secret_key, frozen.token, region

    # -- object URLs -----------------------------------------------------------------------

    @cached_property
    def _url_template(self) -> tuple[str, str, str]:
        """``(scheme://host, path prefix, region)`` as botocore resolves them for this bucket.

        Asking botocore once (one presign, no I/O) keeps endpoint rules (path vs virtual
        host, regions, custom endpoints) exactly botocore's; every later URL is formatting.
        """
        probe = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket_name, "Key": "k"}, ExpiresIn=60
        )
        parts = urlsplit(probe)
        prefix = parts.path[: -len("k")]
        region = self.client.meta.region_name or "us-east-1"
        for item in parts.query.split("&"):
            if item.startswith("X-Amz-Credential="):
                region = item.split("%2F")[2]
        return f"{parts.scheme}://{parts.netloc}", prefix, region

    @cached_property
    def _url_maker(self) -> object_urls.UrlMaker:
        s = self.settings
        host, prefix, region = self._url_template
        public_base = None
        if s.custom_domain and self._cloudfront_signer is None:
            public_base = f"{s.url_protocol}//{s.custom_domain}/"
        elif not s.querystring_auth:
            public_base = host + prefix
        return object_urls.UrlMaker(
            host=host,
            prefix=prefix,
            region=region,
            location=self.location,
            public_base=public_base,
            expires=s.querystring_expire,
            custom_domain=bool(s.custom_domain),
        )

    @cached_property
    def _cloudfront_signer(self) -> Any:
        """botocore's ``CloudFrontSigner`` when URLs on ``custom_domain`` are signed for
        CloudFront (``querystring_auth`` and the key pair set), else None."""
        s = self.settings
        if s.custom_domain and s.querystring_auth and s.cloudfront_key_id and s.cloudfront_key:
            return cloudfront.new_signer(s.cloudfront_key_id, s.cloudfront_key)
        return None

    def _cloudfront_url(self, name: str, expire: int | None) -> str:
        s = self.settings
        url = f"{s.url_protocol}//{s.custom_domain}/{self._url_maker.escaped_path(name)}"
        expires_in = s.querystring_expire if expire is None else expire
        return cloudfront.signed_url(self._cloudfront_signer, url, expires_in)

    def url(
        self,
        name: str,
        parameters: dict[str, Any] | None = None,
        expire: int | None = None,
        http_method: str | None = None,
    ) -> str:
        """The object's URL: signed (``querystring_auth``), public, or on ``custom_domain``
        (signed for CloudFront with ``cloudfront_key_id``/``cloudfront_key``).
        ``TypeError`` for a name that is no ``str`` (``None``: a field with no file)."""
        maker = self._url_maker
        prefix = maker.public_prefix
        try:
            if prefix is not None:  # plain string formatting: the hot path of a list page
                # maker.is_plain(), inlined: this line is most of a public list page's URL cost.
                if maker.plain_name(name) and "/." not in name and "//" not in name:
                    return prefix + name
                return maker.public_url(name)
            if self._cloudfront_signer is not None:
                return self._cloudfront_url(name, expire)
            return maker.url(
                name, self._signing_credentials, parameters, expire, http_method or "GET"
            )
        except TypeError:
            if isinstance(name, str):
                raise
            raise name_type_error(name) from None
