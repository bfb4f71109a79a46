"""Object URLs, both ways: making them fast, and recognising our own.

``UrlMaker`` formats public and custom-domain URLs as plain strings and signs the others
with :mod:`buckets.signing.sigv4`; a name that needs no escaping skips every general-purpose step.

``name_from_url`` lets a model be given a URL and store the key. Every URL form a storage
can produce (path-style, virtual-host, the AWS global and regional hosts, a custom domain;
signed or not) maps back to a key. Anything else, or anything that would escape (``..``,
another bucket, userinfo tricks, odd schemes), is not ours: None. Pure string work:
nothing is ever fetched.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from django.core.exceptions import SuspiciousFileOperation

from buckets.signing import sigv4 as signing
from buckets.signing.limits import MAX_KEY_BYTES
from buckets.storage.keys import clean_name, name_to_key


@functools.lru_cache(maxsize=16)
def plain_names(room: int) -> Callable[[str], re.Match[str] | None]:
    """A match for names that need no escaping in a URL path, made only of
    ``A-Z a-z 0-9 _ . ~ / -``, that also refuses a first ``.`` or ``/`` (the first test of
    :func:`kept_by_clean_name`) and a name over ``room`` characters: three tests in one
    match, for the hot path of ``url()``."""
    if room < 1:
        return re.compile(r"(?!)").fullmatch
    return re.compile(rf"[A-Za-z0-9_~-][A-Za-z0-9_.~/-]{{0,{room - 1}}}").fullmatch


#: What a custom-domain URL leaves unescaped besides what S3 URLs do (Django's
#: ``filepath_to_uri``, as django-storages writes those URLs): escape to character.
_CUSTOM_DOMAIN_KEPT = {"%21": "!", "%27": "'", "%28": "(", "%29": ")", "%2A": "*"}
_escape = re.compile(r"%(?:21|27|28|29|2A)").sub
#: Characters the name rules reject or rewrite (see ``names.clean_name``).
_special = re.compile(r"[\\\x00]").search


def kept_by_clean_name(name: str) -> bool:
    """Whether :func:`~buckets.storage.keys.clean_name` surely keeps ``name`` as it is, bar its
    backslashes and NUL: relative, no ``//``, and no segment starting with ``.`` (so no
    ``.`` or ``..`` segment; a dotfile merely takes the slower path). Three cheap tests;
    :meth:`UrlMaker.is_plain` and ``S3UrlsMixin.url``'s hot path (which inlines it) make the
    first with :func:`plain_names`: keep the three the same."""
    return name[0] not in "./" and "/." not in name and "//" not in name


#: boto3 parameter names of GetObject that become query parameters of a signed URL.
QUERY_PARAMS = {
    "VersionId": "versionId",
    "ResponseContentDisposition": "response-content-disposition",
    "ResponseContentType": "response-content-type",
    "ResponseCacheControl": "response-cache-control",
    "ResponseContentEncoding": "response-content-encoding",
    "ResponseContentLanguage": "response-content-language",
    "ResponseExpires": "response-expires",
}


def query_params(parameters: Mapping[str, Any] | None) -> dict[str, str] | None:
    """boto3-style ``url(parameters=...)`` names as S3 query parameters; unknown ones raise."""
    if not parameters:
        return None
    query: dict[str, str] = {}
    for name, value in parameters.items():
        wire = QUERY_PARAMS.get(name)
        if wire is None:
            raise ValueError(
                f"url() does not support the parameter {name!r}; "
                f"supported: {', '.join(QUERY_PARAMS)}."
            )
        query[wire] = str(value)
    return query


@dataclasses.dataclass(frozen=True)
class UrlMaker:
    """Everything ``url()`` needs, resolved once per storage; each URL is then formatting.

    ``host`` is ``scheme://host[:port]`` and ``prefix`` the path before the key, as botocore
    resolves them; ``public_base`` is set when URLs are unsigned (``querystring_auth`` off,
    or a custom domain). ``custom_domain``: URLs are on one, whose paths keep ``!*()'``
    unescaped as django-storages writes them (the same URLs, so CDN caches and stored links
    stay valid after a move).
    """

    host: str
    prefix: str
    region: str
    location: str
    public_base: str | None
    expires: int
    custom_domain: bool = False
    key_prefix: str = dataclasses.field(init=False, repr=False)
    room: int = dataclasses.field(init=False, repr=False)
    #: ``public_base + key_prefix``: a plain name's public URL is this and the name.
    public_prefix: str | None = dataclasses.field(init=False, repr=False)
    #: :func:`plain_names` for names of at most ``room`` characters.
    plain_name: Callable[[str], re.Match[str] | None] = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        key_prefix = f"{self.location}/" if self.location else ""
        room = MAX_KEY_BYTES - len(key_prefix)
        public = None if self.public_base is None else self.public_base + key_prefix
        object.__setattr__(self, "key_prefix", key_prefix)
        object.__setattr__(self, "room", room)
        object.__setattr__(self, "public_prefix", public)
        object.__setattr__(self, "plain_name", plain_names(room))

    def is_plain(self, name: str) -> bool:
        """Plain ASCII, kept by the name rules (:func:`kept_by_clean_name`), at most ``room``
        characters: nothing to clean or escape."""
        return self.plain_name(name) is not None and "/." not in name and "//" not in name

    def key(self, name: str) -> tuple[str, str]:
        """``(raw key, escaped key)`` for a storage name; ``SuspiciousFileOperation`` if unsafe."""
        if self.is_plain(name):
            key = self.key_prefix + name
            return key, key
        return self.escaped_key(name)

    def public_url(self, name: str) -> str:
        """The unsigned URL (``public_base`` set) of a name :meth:`is_plain` turned down."""
        return f"{self.public_base}{self.escaped_path(name)}"

    def escaped_key(self, name: str) -> tuple[str, str]:
        """:meth:`key` for a name that :meth:`is_plain` turned down."""
        # Nothing for the name rules to reject or rewrite, only escaping to do?
        if name and kept_by_clean_name(name) and not _special(name):
            key = self.key_prefix + name
            if key.isascii():
                if len(key) <= MAX_KEY_BYTES:
                    return key, signing.quote_path(key)
            else:
                raw = key.encode("utf-8")
                if len(raw) <= MAX_KEY_BYTES:
                    return key, signing.quote_utf8(raw)
        key = name_to_key(name, self.location)
        return key, signing.quote_path(key)

    def escaped_path(self, name: str) -> str:
        """The escaped key of a name :meth:`is_plain` turned down, as a public or
        custom-domain URL's path (``SuspiciousFileOperation`` if unsafe)."""
        escaped = self.escaped_key(name)[1]
        if self.custom_domain and "%" in escaped:
            return _escape(lambda m: _CUSTOM_DOMAIN_KEPT[m.group()], escaped)
        return escaped

    def url(
        self,
        name: str,
        credentials: Callable[[], Any],
        parameters: Mapping[str, Any] | None = None,
        expire: int | None = None,
        method: str = "GET",
    ) -> str:
        if self.public_prefix is not None:
            if self.is_plain(name):
                return self.public_prefix + name
            return self.public_url(name)
        key, _ = self.key(name)
        frozen = credentials()
        return signing.presign_url(
            method=method,
            scheme_host=self.host,
            path=self.prefix + key,
            query=query_params(parameters),
            access_key=frozen.access_key,
            secret_key=frozen.secret_key,
            token=frozen.token,
            region=self.region,
            expires=self.expires if expire is None else expire,
        )


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> str | None:
    """``host[:port]`` of an http(s) URL (default port dropped), or None."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    if "@" in parts.netloc:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if port is not None and port != _DEFAULT_PORTS[parts.scheme]:
        host = f"{host}:{port}"
    return host


def url_forms(
    *,
    bucket: str,
    template: tuple[str, str],
    endpoint_url: str | None,
    region: str,
    custom_domain: str | None,
) -> list[tuple[str, str]]:
    """``(host[:port], path prefix)`` pairs under which this bucket's objects are found."""
    forms: list[tuple[str, str]] = []
    origin = _origin(template[0])
    if origin:
        forms.append((origin, template[1]))
    path_style = f"/{bucket}/"
    if endpoint_url:
        origin = _origin(endpoint_url)
        if origin:
            forms += [(origin, path_style), (f"{bucket}.{origin}", "/")]
    else:
        for host in (
            "s3.amazonaws.com",
            f"s3.{region}.amazonaws.com",
            f"s3-{region}.amazonaws.com",
            f"s3.dualstack.{region}.amazonaws.com",
        ):
            forms += [(host, path_style), (f"{bucket}.{host}", "/")]
    if custom_domain:
        host, _, path = custom_domain.partition("/")
        origin = _origin(f"https://{host}")
        if origin:
            forms.append((origin, "/" + (path.strip("/") + "/" if path.strip("/") else "")))
    return list(dict.fromkeys(forms))  # unique, in order


def name_from_url(url: str, forms: list[tuple[str, str]], location: str = "") -> str | None:
    """The storage name (key without ``location``) for ``url``, or None when it is not ours."""
    if not isinstance(url, str) or any(c in url for c in "\\\r\n\t\x00"):
        return None
    origin = _origin(url)
    if origin is None:
        return None
    path = urlsplit(url).path
    for host, prefix in forms:
        if origin == host and path.startswith(prefix):
            key = unquote(path[len(prefix) :])
            break
    else:
        return None
    if location:
        if not key.startswith(location + "/"):
            return None
        key = key[len(location) + 1 :]
    try:
        name = clean_name(key)
    except SuspiciousFileOperation:
        return None
    return name if name.strip("/") else None
