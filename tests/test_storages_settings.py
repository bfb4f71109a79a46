"""django-storages' three ways of configuring a storage, read as they are: global ``AWS_*``
settings, ``STORAGES`` ``OPTIONS`` and class attributes of a subclass; what has no meaning
here is refused with what to do. No server needed (the RGW ones are in
``test_storages_features.py``)."""

from __future__ import annotations

import sys

import pytest
from botocore.config import Config
from django.core.exceptions import ImproperlyConfigured

from buckets import conf
from buckets.storage import S3Storage
from buckets.test.storage import FakeS3Storage

GLOBALS = {
    "AWS_STORAGE_BUCKET_NAME": "global-bucket",
    "AWS_ACCESS_KEY_ID": "global-ak",
    "AWS_SECRET_ACCESS_KEY": "global-sk",
    "AWS_S3_REGION_NAME": "eu-west-1",
    "AWS_S3_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_LOCATION": "/media/",
    "AWS_QUERYSTRING_AUTH": False,
    "AWS_S3_CUSTOM_DOMAIN": "cdn.example.com",
    "AWS_DEFAULT_ACL": "public-read",
    "AWS_S3_OBJECT_PARAMETERS": {"CacheControl": "max-age=60"},
    "AWS_S3_FILE_OVERWRITE": True,
    "AWS_IS_GZIPPED": True,
    "GZIP_CONTENT_TYPES": ["text/css"],
    "AWS_S3_USE_SSL": False,
    "AWS_S3_PROXIES": {"https": "http://proxy.example.com:3128"},
}


def configure(settings, values):
    settings.AWS = {}  # the suite's settings have one; django-storages users have none
    for name, value in values.items():
        setattr(settings, name, value)


def test_django_storages_global_settings_are_read(settings):
    configure(settings, GLOBALS)
    s = S3Storage().settings
    assert (s.bucket_name, s.access_key, s.secret_key) == (
        "global-bucket",
        "global-ak",
        "global-sk",
    )
    assert (s.region_name, s.endpoint_url, s.location) == (
        "eu-west-1",
        "http://127.0.0.1:9",
        "media",
    )
    assert (s.querystring_auth, s.custom_domain, s.default_acl) == (
        False,
        "cdn.example.com",
        "public-read",
    )
    assert s.object_parameters == {"CacheControl": "max-age=60"}
    assert (s.file_overwrite, s.gzip, s.gzip_content_types, s.use_ssl) == (
        True,
        True,
        ("text/css",),
        False,
    )
    assert s.proxies == {"https": "http://proxy.example.com:3128"}


def test_the_s3_specific_global_name_wins_as_in_django_storages(settings):
    configure(settings, GLOBALS)
    settings.AWS_S3_ACCESS_KEY_ID = "s3-ak"
    settings.AWS_S3_SECRET_ACCESS_KEY = "s3-sk"
    s = S3Storage().settings
    assert (s.access_key, s.secret_key) == ("s3-ak", "s3-sk")


def test_precedence_options_then_class_attributes_then_aws_dict_then_globals(settings):
    configure(settings, GLOBALS)
    settings.AWS = {"LOCATION": "from-aws", "DEFAULT_ACL": "private", "REGION": "us-east-2"}

    class MediaStorage(S3Storage):
        location = "from-class"
        default_acl = "authenticated-read"

    s = MediaStorage(location="from-option").settings
    assert s.location == "from-option"  # option > class attribute
    assert s.default_acl == "authenticated-read"  # class attribute > AWS dict
    assert s.region_name == "us-east-2"  # AWS dict > AWS_* global
    assert s.bucket_name == "global-bucket"  # the global, where nothing else says
    assert MediaStorage().location == "from-class"


def test_none_sets_nothing_and_false_switches_custom_domain_off(settings):
    configure(settings, GLOBALS)

    class NoCdn(S3Storage):
        custom_domain = False  # django-storages' way to undo AWS_S3_CUSTOM_DOMAIN
        default_acl = None  # None: not set here, the global stays

    s = NoCdn().settings
    assert s.custom_domain is None
    assert s.default_acl == "public-read"
    assert S3Storage(custom_domain=False).settings.custom_domain is None


def test_class_attributes_are_checked_and_resolved(settings):
    settings.AWS = {"BUCKET": "b"}

    class MediaStorage(S3Storage):
        location = "/media/"
        file_overwrite = True
        querystring_auth = False
        url_protocol = "http"
        object_parameters = {"CacheControl": "max-age=86400"}  # noqa: RUF012

    storage = MediaStorage()
    assert storage.location == "media"  # the property: the resolved value, not the raw one
    assert storage.file_overwrite is True
    s = storage.settings
    assert (s.querystring_auth, s.url_protocol) == (False, "http:")
    assert s.object_parameters == {"CacheControl": "max-age=86400"}

    class Inherits(MediaStorage):
        default_acl = "public-read"

    assert Inherits().settings.location == "media"
    assert Inherits().settings.default_acl == "public-read"

    class WrongAcl(S3Storage):
        default_acl = "world-readable"

    with pytest.raises(
        ImproperlyConfigured, match="class attribute 'default_acl' must be a canned ACL"
    ):
        WrongAcl().check_settings()

    class WrongType(S3Storage):
        querystring_auth = "no"

    with pytest.raises(
        ImproperlyConfigured, match="class attribute 'querystring_auth' must be of type bool"
    ):
        WrongType().check_settings()


def test_fake_storage_reads_class_attributes_and_globals_but_not_global_credentials(
    settings, tmp_path
):
    configure(
        settings,
        {
            "MEDIA_ROOT": str(tmp_path),
            "AWS_STORAGE_BUCKET_NAME": "global-bucket",
            "AWS_ACCESS_KEY_ID": "real-ak",
            "AWS_SECRET_ACCESS_KEY": "real-sk",
        },
    )

    class FakeMedia(FakeS3Storage):
        location = "media"

    s = FakeMedia().settings
    assert (s.bucket_name, s.location) == ("global-bucket", "media")
    assert s.access_key != "real-ak"  # never signs with what may be production keys


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("AWS_S3_FILE_NAME_CHARSET", "latin-1", "Keys are always UTF-8"),
        ("AWS_S3_USE_THREADS", False, "TransferConfig(use_threads=False)"),
        ("AWS_S3_FILE_BUFFER_SIZE", 1024, "multipart_chunksize"),
        ("AWS_HEADERS", {"Cache-Control": "max-age=1"}, "AWS_S3_OBJECT_PARAMETERS"),
        ("AWS_S3_SECURE_URLS", False, "AWS_S3_URL_PROTOCOL"),
        ("AWS_S3_HOST", "s3.example.com", "AWS_S3_ENDPOINT_URL"),
        ("AWS_AUTO_CREATE_BUCKET", True, "Create the bucket"),
        ("AWS_REDUCED_REDUNDANCY", True, "StorageClass"),
    ],
)
def test_global_setting_with_no_meaning_is_an_error_saying_what_to_do(settings, name, value, says):
    settings.AWS = {"BUCKET": "b"}
    setattr(settings, name, value)
    with pytest.raises(ImproperlyConfigured) as raised:
        S3Storage().check_settings()
    assert name in str(raised.value) and "no meaning" in str(raised.value)
    assert says in str(raised.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AWS_S3_FILE_NAME_CHARSET", "utf-8"),
        ("AWS_S3_USE_THREADS", True),
        ("AWS_S3_SECURE_URLS", True),
    ],
)
def test_no_meaning_setting_at_its_no_op_value_is_accepted(settings, name, value):
    settings.AWS = {"BUCKET": "b"}
    setattr(settings, name, value)
    S3Storage().check_settings()


def test_other_libraries_aws_settings_are_left_alone(settings):
    settings.AWS = {"BUCKET": "b"}
    settings.AWS_SES_REGION_NAME = "eu-west-1"  # django-ses's
    S3Storage().check_settings()


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"use_threads": False}, "TransferConfig(use_threads=False)"),
        ({"file_name_charset": "latin-1"}, "UTF-8"),
        ({"cloudfront_signer": object()}, "cloudfront_key_id and cloudfront_key"),
        ({"config": Config()}, "client_config"),
    ],
)
def test_option_with_no_meaning_is_an_error_saying_what_to_do(options, says):
    (name,) = options
    with pytest.raises(
        ImproperlyConfigured, match=f"storage option {name} is django-storages'"
    ) as raised:
        S3Storage(bucket_name="b", **options)
    assert says in str(raised.value)


def test_class_attribute_with_no_meaning_is_an_error():
    class OldStyle(S3Storage):
        config = Config(signature_version="s3v4")

    with pytest.raises(ImproperlyConfigured, match="class attribute config .*client_config"):
        OldStyle(bucket_name="b")


@pytest.mark.parametrize(
    ("values", "says"),
    [
        (
            {"AWS_QUERYSTRING_AUTH": "no"},
            "setting AWS_QUERYSTRING_AUTH ('querystring_auth') must be of type bool",
        ),
        (
            {"AWS_QUERYSTRING_EXPIRE": -5},
            "AWS_QUERYSTRING_EXPIRE ('querystring_expire') must be between",
        ),
        (
            {"AWS_S3_ENDPOINT_URL": "ftp://x"},
            "AWS_S3_ENDPOINT_URL ('endpoint_url') must be an http",
        ),
        ({"AWS_S3_USE_SSL": "yes"}, "AWS_S3_USE_SSL ('use_ssl') must be of type bool"),
        (
            {"AWS_S3_CUSTOM_DOMAIN": True},
            "AWS_S3_CUSTOM_DOMAIN ('custom_domain') must be of type str",
        ),
        ({"GZIP_CONTENT_TYPES": "text/css"}, "must be a list of content types"),
        ({"GZIP_CONTENT_TYPES": ["text/css", "css"]}, "'css' is not one"),
        ({"GZIP_CONTENT_TYPES": ["text/css", 5]}, "5 is not one"),
        ({"GZIP_CONTENT_TYPES": ["text/css; charset=utf-8"]}, "is not one"),
        ({"AWS_IS_GZIPPED": "true"}, "AWS_IS_GZIPPED ('gzip') must be of type bool"),
        (
            {"AWS_S3_PROXIES": "http://proxy:3128"},
            "AWS_S3_PROXIES ('proxies') must be of type Mapping",
        ),
        ({"AWS_S3_PROXIES": {"https": "ftp://proxy"}}, "'ftp://proxy' is not one"),
        ({"AWS_S3_PROXIES": {"https": 3128}}, "must map strings to proxy URLs"),
        ({"AWS_S3_PROXIES": {"https": "http://proxy:99999"}}, "invalid port"),
    ],
)
def test_wrong_global_values_are_errors_naming_the_setting(settings, values, says):
    configure(settings, {"AWS_STORAGE_BUCKET_NAME": "b", **values})
    with pytest.raises(ImproperlyConfigured) as raised:
        S3Storage().check_settings()
    assert says in str(raised.value)


def test_missing_bucket_names_every_way_to_set_it(settings):
    settings.AWS = {}
    with pytest.raises(ImproperlyConfigured, match="AWS_STORAGE_BUCKET_NAME"):
        S3Storage().check_settings()


def test_global_settings_change_resets_the_storage(settings):
    configure(settings, {"AWS_STORAGE_BUCKET_NAME": "first"})
    storage = S3Storage()
    assert storage.bucket_name == "first"
    settings.AWS_STORAGE_BUCKET_NAME = "second"
    assert storage.bucket_name == "second"


def test_use_ssl_and_proxies_reach_the_client():
    storage = S3Storage(
        bucket_name="b",
        region_name="eu-west-1",
        access_key="ak",
        secret_key="sk",
        use_ssl=False,
        proxies={"https": "http://proxy.example.com:3128"},
    )
    assert storage.client.meta.endpoint_url == "http://s3.eu-west-1.amazonaws.com"
    assert storage.client.meta.config.proxies == {"https": "http://proxy.example.com:3128"}
    assert storage.url("a.txt").startswith("http://")
    merged = S3Storage(
        bucket_name="b",
        proxies={"https": "http://proxy.example.com:3128"},
        client_config=Config(proxies={"https": "http://other:8080"}),
    )
    assert merged.client.meta.config.proxies == {"https": "http://other:8080"}  # client_config wins


# -- CloudFront: the checks; signing itself is in test_storages_features.py --------------


def rsa_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"cloudfront_key_id": "K2ID"}, "Set both cloudfront_key_id and cloudfront_key"),
        ({"cloudfront_key": "PEM"}, "cloudfront_key' must be the PEM text"),
        ({"cloudfront_key_id": "K2ID", "cloudfront_key": "/etc/keys/cf.pem"}, "not a path"),
        ({"cloudfront_key_id": "K2ID", "cloudfront_key": 5}, "must be of type str or bytes"),
    ],
)
def test_cloudfront_settings_errors(options, says):
    with pytest.raises(ImproperlyConfigured) as raised:
        S3Storage(bucket_name="b", custom_domain="cdn.example.com", **options).check_settings()
    assert says in str(raised.value)


def test_cloudfront_key_must_be_rsa():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    storage = S3Storage(bucket_name="b", cloudfront_key_id="K2ID", cloudfront_key=ec_pem)
    with pytest.raises(ImproperlyConfigured, match="must be an RSA private key"):
        storage.check_settings()


def test_cloudfront_without_the_extra_says_what_to_install(monkeypatch):
    # The shared test environment has cryptography installed and cannot uninstall it for
    # one test: a None entry in sys.modules makes its import fail as if it were missing.
    pem = rsa_pem()
    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.serialization", None)
    storage = S3Storage(bucket_name="b", cloudfront_key_id="K2ID", cloudfront_key=pem)
    with pytest.raises(
        ImproperlyConfigured, match=r"pip install 'django-buckets-s3\[cloudfront\]'"
    ):
        storage.check_settings()


def test_new_options_are_in_the_aws_dict_too():
    s = conf.resolve(
        {},
        {
            "BUCKET": "b",
            "GZIP": True,
            "GZIP_CONTENT_TYPES": ("text/plain",),
            "USE_SSL": False,
            "PROXIES": {"http": "http://p:1"},
        },
        storages_globals={},
    )
    assert (s.gzip, s.gzip_content_types, s.use_ssl, s.proxies) == (
        True,
        ("text/plain",),
        False,
        {"http": "http://p:1"},
    )


def test_system_check_reports_a_setting_with_no_meaning(settings):
    from buckets.checks.storages import check_storage_settings

    settings.AWS_S3_USE_THREADS = False
    errors = check_storage_settings()
    assert [e.id for e in errors] == ["buckets.E001"]
    assert "AWS_S3_USE_THREADS" in errors[0].msg and "use_threads=False" in errors[0].msg


def test_system_check_reports_a_subclass_attribute_with_a_wrong_value(settings):
    from buckets.checks.storages import check_storage_settings

    module = type(sys)("tests_storages_subclass")

    class BadMedia(S3Storage):
        location = "../up"

    module.BadMedia = BadMedia
    sys.modules[module.__name__] = module
    try:
        settings.STORAGES = {
            "default": {"BACKEND": "tests_storages_subclass.BadMedia"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        errors = check_storage_settings()
    finally:
        del sys.modules[module.__name__]
    assert [e.id for e in errors] == ["buckets.E001"]
    assert "class attribute 'location' must be a relative key prefix" in errors[0].msg


def test_django_storages_environment_variables_are_read(settings, monkeypatch):
    configure(settings, {"AWS_STORAGE_BUCKET_NAME": "b"})
    monkeypatch.setenv("AWS_S3_ACCESS_KEY_ID", "env-ak")
    monkeypatch.setenv("AWS_S3_SECRET_ACCESS_KEY", "env-sk")
    s = S3Storage().settings
    assert (s.access_key, s.secret_key) == ("env-ak", "env-sk")
    settings.AWS_S3_ACCESS_KEY_ID = "setting-ak"  # a setting wins over the environment
    assert S3Storage().settings.access_key == "setting-ak"
    monkeypatch.setenv("AWS_S3_SESSION_PROFILE", "")  # empty: not set
    assert S3Storage().settings.session_profile is None


def test_a_setting_with_no_meaning_set_later_is_seen(settings):
    storage = S3Storage(bucket_name="b")
    storage.check_settings()
    settings.AWS_S3_FILE_NAME_CHARSET = "latin-1"
    with pytest.raises(ImproperlyConfigured, match="AWS_S3_FILE_NAME_CHARSET"):
        storage.check_settings()
