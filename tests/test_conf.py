"""Configuration: the AWS dict, storage options, clear errors and the system check."""

from __future__ import annotations

import dataclasses
import re

import botocore
import django
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages

from buckets import conf
from buckets.checks.storages import check_storage_settings
from buckets.signing.limits import MAX_OBJECT_SIZE, S3_MAX_POST_SIZE
from buckets.storage import S3Storage


def test_aws_dict_is_read(settings):
    settings.AWS = {
        "BUCKET": "b1",
        "ACCESS_KEY": "ak",
        "SECRET_KEY": "sk",
        "REGION": "eu-west-1",
        "ENDPOINT_URL": "http://127.0.0.1:9",
        "MAX_FILE_SIZE": 1024,
        "LOCATION": "/media/",
    }
    s = S3Storage().settings
    assert (s.bucket_name, s.access_key, s.secret_key) == ("b1", "ak", "sk")
    assert (s.region_name, s.endpoint_url, s.max_file_size) == (
        "eu-west-1",
        "http://127.0.0.1:9",
        1024,
    )
    assert s.location == "media"
    assert s.signature_version == "s3v4"
    assert s.file_overwrite is False and s.default_acl is None and s.querystring_auth is True


@pytest.mark.parametrize(
    ("max_file_size", "post", "multipart"),
    [
        (None, S3_MAX_POST_SIZE, MAX_OBJECT_SIZE),  # unset: S3's limit for each path
        (1024, 1024, 1024),
        (S3_MAX_POST_SIZE, S3_MAX_POST_SIZE, S3_MAX_POST_SIZE),  # set: caps multipart too
        (2 * S3_MAX_POST_SIZE, S3_MAX_POST_SIZE, 2 * S3_MAX_POST_SIZE),
        (MAX_OBJECT_SIZE, S3_MAX_POST_SIZE, MAX_OBJECT_SIZE),
    ],
)
def test_max_file_size_and_the_upload_paths(settings, max_file_size, post, multipart):
    """MAX_FILE_SIZE defaults to None: S3's own limit for each path (5 GiB for one POST,
    5 TiB for a multipart upload), which no single number could say; a value caps both
    paths, and POST stays within S3's 5 GiB whatever it is."""
    settings.AWS = {"BUCKET": "b"}
    if max_file_size is not None:
        settings.AWS["MAX_FILE_SIZE"] = max_file_size
    s = S3Storage().settings
    assert s.max_file_size == max_file_size
    assert s.upload_size_limit() == post
    assert s.upload_size_limit(multipart=True) == multipart
    assert s.upload_size_limit(512) == 512
    assert s.upload_size_limit(512, multipart=True) == 512
    assert s.upload_size_limit(10 * MAX_OBJECT_SIZE, multipart=True) == multipart


def test_option_wins_over_aws_dict(settings):
    settings.AWS = {"BUCKET": "from-settings", "REGION": "eu-west-1"}
    s = S3Storage(bucket_name="from-option").settings
    assert s.bucket_name == "from-option" and s.region_name == "eu-west-1"


def test_settings_change_is_seen(settings):
    settings.AWS = {"BUCKET": "first"}
    storage = S3Storage()
    assert storage.bucket_name == "first"
    settings.AWS = {"BUCKET": "second"}
    assert storage.bucket_name == "second"


def test_unknown_option_names_the_key():
    with pytest.raises(ImproperlyConfigured, match="'bucket'"):
        S3Storage(bucket="typo")


def test_unknown_aws_key_names_the_key(settings):
    settings.AWS = {"BUCKET": "b", "SECRETKEY": "x"}
    with pytest.raises(ImproperlyConfigured, match="SECRETKEY"):
        S3Storage().check_settings()


@pytest.mark.parametrize("aws", [{}, {"BUCKET": ""}, {"ACCESS_KEY": "a", "SECRET_KEY": "b"}])
def test_missing_bucket(settings, aws):
    settings.AWS = aws
    with pytest.raises(ImproperlyConfigured, match="BUCKET"):
        S3Storage().check_settings()


def test_missing_aws_setting_entirely(settings):
    del settings.AWS
    with pytest.raises(ImproperlyConfigured, match="BUCKET"):
        S3Storage().check_settings()


@pytest.mark.parametrize(
    "aws, word",
    [
        ({"BUCKET": "b", "ACCESS_KEY": "only-half"}, "SECRET_KEY"),
        ({"BUCKET": "b", "MAX_FILE_SIZE": "10"}, "max_file_size"),
        ({"BUCKET": "b", "MAX_FILE_SIZE": 6 * 1024**4}, "max_file_size"),  # over 5 TiB
        ({"BUCKET": "b", "ADDRESSING_STYLE": "sideways"}, "addressing_style"),
        ({"BUCKET": "b", "QUERYSTRING_EXPIRE": -1}, "querystring_expire"),
        ("not a dict", "dict"),
    ],
)
def test_bad_values(settings, aws, word):
    settings.AWS = aws
    with pytest.raises(ImproperlyConfigured, match=word):
        S3Storage().check_settings()


# Each of these used to pass ``check_settings()`` and then fail deep inside boto3 at the
# first URL or upload (or, worse, be accepted and misbehave).
BAD_OPTIONS = [
    ({"endpoint_url": "not a url"}, "'endpoint_url' must be an http:// or https:// URL"),
    ({"endpoint_url": "localhost:9000"}, "'endpoint_url' must be an http:// or https:// URL"),
    ({"endpoint_url": "ftp://host"}, "'endpoint_url'"),
    ({"endpoint_url": "http://"}, "'endpoint_url' must be a URL with a valid host"),
    ({"endpoint_url": "http://bad host:9000"}, "'endpoint_url'"),
    ({"endpoint_url": "http://host:99999"}, "'endpoint_url' has an invalid port"),
    ({"endpoint_url": 123}, "'endpoint_url' must be of type str or None, not int"),
    ({"region_name": "us east 1"}, "'region_name' must be a region name"),
    ({"region_name": 5}, "'region_name' must be of type str"),
    ({"signature_version": "v5"}, "'signature_version' must be one of s3v4"),
    ({"signature_version": "v2"}, "'signature_version'"),
    ({"signature_version": 4}, "'signature_version'"),
    ({"custom_domain": 5}, "'custom_domain' must be of type str"),
    ({"custom_domain": "https://cdn.example.com"}, "'custom_domain' must be a host name"),
    ({"custom_domain": "cdn example.com"}, "'custom_domain' must be a host name"),
    ({"custom_domain": "/files"}, "'custom_domain' must be a host name"),
    ({"custom_domain": "cdn:port"}, "'custom_domain' has an invalid port"),
    ({"url_protocol": "ftp:"}, "'url_protocol' must be 'https:' or 'http:'"),
    ({"url_protocol": "//"}, "'url_protocol'"),
    ({"location": 5}, "'location' must be of type str"),
    ({"location": "../x"}, "'location' must be a relative key prefix"),
    ({"location": "a/../b"}, "'location'"),
    ({"location": "a//b"}, "'location'"),
    ({"location": "./a"}, "'location'"),
    ({"location": "a\\b"}, "'location'"),
    ({"location": "a\nb"}, "'location'"),
    ({"upload_prefix": "/"}, "'upload_prefix' must be a non-empty key prefix"),
    ({"upload_prefix": ""}, "'upload_prefix' must be a non-empty key prefix"),
    ({"upload_prefix": "up/../loads"}, "'upload_prefix'"),
    ({"default_acl": 5}, "'default_acl' must be of type str"),
    ({"default_acl": "public"}, "'default_acl' must be a canned ACL"),
    ({"transfer_config": {"multipart_threshold": 1}}, "'transfer_config' must be a boto3"),
    ({"client_config": {"x": 1}}, "'client_config' must be a botocore.config.Config"),
    ({"object_parameters": {"Foo": "x"}}, "'object_parameters' has keys boto3 does not"),
    ({"object_parameters": [("CacheControl", "x")]}, "'object_parameters' must be of type"),
    ({"verify": 5}, "'verify' must be of type bool or str or None"),
    ({"access_key": 5, "secret_key": 6}, "'access_key' must be of type str"),
    ({"security_token": 5}, "'security_token' must be of type str"),
    ({"session_profile": ["p"]}, "'session_profile' must be of type str"),
    ({"querystring_auth": "yes"}, "'querystring_auth' must be of type bool"),
    ({"file_overwrite": 1}, "'file_overwrite' must be of type bool"),
    ({"querystring_expire": 0}, "'querystring_expire' must be between 1 and 604800"),
    ({"querystring_expire": 8 * 24 * 3600}, "'querystring_expire' must be between"),
    ({"querystring_expire": True}, "'querystring_expire' must be of type int"),
    ({"upload_expire": 0}, "'upload_expire' must be a positive integer"),
    ({"upload_expire": 60.0}, "'upload_expire' must be of type int"),
    ({"max_attempts": -1}, "'max_attempts' must be a non-negative integer"),
    ({"max_memory_size": -1}, "'max_memory_size' must be a non-negative integer"),
    ({"max_file_size": 0}, "'max_file_size' must be between 1 and"),
    ({"connect_timeout": -1}, "'connect_timeout' must be a positive number of seconds"),
    ({"connect_timeout": 0}, "'connect_timeout' must be a positive number"),
    ({"read_timeout": float("inf")}, "'read_timeout' must be a positive number"),
    ({"read_timeout": "60"}, "'read_timeout' must be of type int or float"),
    ({"connect_timeout": True}, "'connect_timeout' must be of type int or float"),
]


@pytest.mark.parametrize("options, message", BAD_OPTIONS)
def test_bad_option_values_name_the_key(options, message):
    storage = S3Storage(**{"bucket_name": "b", "access_key": "ak", "secret_key": "sk", **options})
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        storage.check_settings()


@pytest.mark.parametrize("options, message", BAD_OPTIONS)
def test_bad_option_values_fail_the_system_check(settings, options, message):
    settings.STORAGES = {
        **settings.STORAGES,
        "media": {"BACKEND": "buckets.storage.S3Storage", "OPTIONS": options},
    }
    errors = check_storage_settings()
    assert [e.id for e in errors] == ["buckets.E001"]
    assert "STORAGES['media']" in errors[0].msg and message in errors[0].msg


@pytest.mark.parametrize(
    "aws, message",
    [
        ({"REGION": "eu west"}, "AWS['REGION'] 'region_name' must be a region name"),
        ({"ENDPOINT_URL": "localhost:9000"}, "AWS['ENDPOINT_URL'] 'endpoint_url' must be"),
        ({"BUCKET": 5}, "AWS['BUCKET'] 'bucket_name' must be of type str"),
        ({"URL_PROTOCOL": "https//"}, "AWS['URL_PROTOCOL'] 'url_protocol'"),
    ],
)
def test_aws_dict_errors_name_the_aws_key(settings, aws, message):
    settings.AWS = {"BUCKET": "b", **aws}
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        S3Storage().check_settings()


def test_an_option_set_to_none_leaves_the_error_to_the_aws_key(settings):
    """An option given as None is not given: the AWS dict's value is used, and named."""
    settings.AWS = {"BUCKET": "b", "REGION": "eu west"}
    with pytest.raises(ImproperlyConfigured, match=re.escape("AWS['REGION'] 'region_name'")):
        S3Storage(region_name=None).check_settings()


@pytest.mark.parametrize(
    "options",
    [
        {"signature_version": "s3v4"},
        {"signature_version": "v4"},
        {"signature_version": "s3"},  # legacy SigV2
        {"signature_version": botocore.UNSIGNED},
        {"endpoint_url": "http://127.0.0.1:9000"},
        {"endpoint_url": "https://s3.example.com/"},
        {"endpoint_url": "http://[::1]:9000"},
        {"endpoint_url": "https://acc.r2.cloudflarestorage.com", "region_name": "auto"},
        {"region_name": "eu-central-1"},
        {"custom_domain": "cdn.example.com:8443/files/"},
        {"default_acl": "public-read"},
        {"object_parameters": {"CacheControl": "max-age=60", "Metadata": {"a": "b"}}},
        {"transfer_config": TransferConfig(multipart_threshold=16 * 1024**2)},
        {"client_config": Config(max_pool_connections=20)},
        {"verify": False},
        {"verify": "/etc/ssl/certs/ca-certificates.crt"},
        {"connect_timeout": 0.5, "read_timeout": 5, "max_attempts": 0},
        {"querystring_expire": 7 * 24 * 3600},
        {"location": "media/files"},
    ],
)
def test_good_option_values_pass_check_and_build_a_client(settings, options):
    settings.STORAGES = {
        **settings.STORAGES,
        "media": {
            "BACKEND": "buckets.storage.S3Storage",
            "OPTIONS": {"bucket_name": "b", **options},
        },
    }
    assert check_storage_settings() == []


def test_values_are_normalised():
    s = S3Storage(
        bucket_name="b",
        location="/media/",
        upload_prefix="staging",
        url_protocol="https",
        custom_domain="cdn.example.com/",
    ).settings
    assert (s.location, s.upload_prefix) == ("media", "staging/")
    assert (s.url_protocol, s.custom_domain) == ("https:", "cdn.example.com")
    assert S3Storage(bucket_name="b", url_protocol="HTTP:").settings.url_protocol == "http:"


def test_url_protocol_without_colon_makes_a_working_url():
    """django-storages spells it "https:"; "https" used to give "https//cdn...", now fixed up."""
    storage = S3Storage(bucket_name="b", custom_domain="cdn.example.com", url_protocol="https")
    assert storage.url("a.txt") == "https://cdn.example.com/a.txt"


def test_empty_strings_mean_unset(settings):
    settings.AWS = {"BUCKET": "b", "REGION": "", "ENDPOINT_URL": "", "CUSTOM_DOMAIN": ""}
    s = S3Storage().settings
    assert (s.region_name, s.endpoint_url, s.custom_domain) == (None, None, None)


def test_every_option_has_an_aws_key():
    for field in dataclasses.fields(conf.S3Settings):
        name = field.name
        key = {"bucket_name": "BUCKET", "region_name": "REGION"}.get(name, name.upper())
        assert conf.read_aws_dict({key: "x"}) == {name: "x"}
        with pytest.raises(ImproperlyConfigured, match=re.escape(repr(name))):
            conf.read_aws_dict({name: "x"})  # the AWS dict's keys are upper-case


@pytest.mark.parametrize("name", [field.name for field in dataclasses.fields(conf.S3Settings)])
def test_every_option_refuses_a_value_of_no_use(name):
    """Each option's type and value are checked, whatever its row says."""
    with pytest.raises(ImproperlyConfigured, match=re.escape(f"option {name!r} must be")):
        conf.resolve({"bucket_name": "b", name: object()}, {})


@pytest.mark.parametrize("key", ["BUCKET_NAME", "REGION_NAME"])
def test_aws_dict_has_one_key_per_option(key):
    """The long forms of BUCKET and REGION are unknown keys: with two keys for one option,
    one would silently win over the other."""
    with pytest.raises(ImproperlyConfigured, match=key):
        conf.read_aws_dict({key: "x"})


def test_no_keys_uses_boto3_credential_chain(settings, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-env")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    settings.AWS = {"BUCKET": "b", "REGION": "us-east-1"}
    credentials = S3Storage()._session.get_credentials()
    assert credentials.get_frozen_credentials().access_key == "from-env"


def test_system_check_reports_bad_settings(settings):
    settings.AWS = {"BUCKET": "b", "NOPE": 1}
    errors = check_storage_settings()
    assert [e.id for e in errors] == ["buckets.E001"]
    assert "NOPE" in errors[0].msg
    assert errors[0].level == checks.ERROR


def test_system_check_reports_unknown_option(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "media": {"BACKEND": "buckets.storage.S3Storage", "OPTIONS": {"bucket_nmae": "x"}},
    }
    errors = check_storage_settings()
    assert len(errors) == 1 and "bucket_nmae" in errors[0].msg and "'media'" in errors[0].msg


def test_system_check_clean(settings):
    settings.AWS = {"BUCKET": "b"}
    assert check_storage_settings() == []


def test_system_check_builds_the_boto3_client(settings):
    """A profile that does not exist is only found when boto3 builds a session."""
    settings.AWS = {"BUCKET": "b", "SESSION_PROFILE": "no-such-profile-anywhere"}
    errors = check_storage_settings()
    assert [e.id for e in errors] == ["buckets.E001"]
    assert "session_profile" in errors[0].msg and "no-such-profile-anywhere" in errors[0].msg


def test_the_checks_shared_loader_builds_what_a_plain_session_builds(settings):
    """The check's sessions share one botocore data loader (S3's model parsed once per
    process, not once per storage checked);
    their clients are the ones a plain boto3 session makes, and boto3's data directory,
    added to a loader by every session, stays on its search path once."""
    from urllib.parse import parse_qsl, urlsplit

    from buckets.checks.storages import _check_loader
    from buckets.storage import clients

    settings.AWS = {"BUCKET": "b", "ENDPOINT_URL": "http://127.0.0.1:9", "REGION": "eu-west-3"}
    s = S3Storage().settings
    keys = {"aws_access_key_id": "AK", "aws_secret_access_key": "SK"}

    def presigned(client):
        url = client.generate_presigned_url(
            "put_object", Params={"Bucket": "b", "Key": "a/é k"}, ExpiresIn=60
        )
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        del query["X-Amz-Date"], query["X-Amz-Signature"]
        query["X-Amz-Credential"] = query["X-Amz-Credential"].split("/", 2)[2]  # no date
        return parts.scheme, parts.netloc, parts.path, query

    plain = clients.new_client(clients.new_session(s), s, **keys)
    shared = [
        clients.new_client(clients.new_session(s, loader=_check_loader()), s, **keys)
        for _ in range(3)
    ]
    model = plain.meta.service_model
    for client in shared:
        assert client.meta.service_model.operation_names == model.operation_names
        assert client.meta.service_model.metadata == model.metadata
        assert (client.meta.endpoint_url, client.meta.region_name) == (
            plain.meta.endpoint_url,
            plain.meta.region_name,
        )
        assert presigned(client) == presigned(plain)
    assert shared[0].meta.service_model.metadata is shared[2].meta.service_model.metadata
    assert shared[0].meta.service_model.metadata is not model.metadata
    paths = _check_loader().search_paths
    assert len(paths) == len(set(paths))


@pytest.mark.parametrize(
    "aws, words",
    [
        ({"CLIENT_CONFIG": Config(signature_version="v9")}, ["signature_version", "v9"]),
        ({"BUCKET": "not a bucket"}, ["bucket_name", "not a bucket"]),
    ],
)
def test_system_check_reports_what_boto3_refuses(settings, aws, words):
    settings.AWS = {"BUCKET": "b", **aws}
    errors = check_storage_settings()
    assert [e.id for e in errors] == ["buckets.E001"]
    assert all(word in errors[0].msg for word in words), errors[0].msg


def test_system_check_makes_no_network_request(settings, monkeypatch):
    """Without keys, boto3's credential chain (which may ask the instance-metadata endpoint)
    is not run, and no request is sent."""
    import botocore.endpoint
    import botocore.session

    def forbidden(*args, **kwargs):
        raise AssertionError("the system check must do no I/O")

    monkeypatch.setattr(botocore.session.Session, "get_credentials", forbidden)
    monkeypatch.setattr(botocore.endpoint.Endpoint, "make_request", forbidden)
    settings.AWS = {"BUCKET": "b", "ENDPOINT_URL": "http://127.0.0.1:9"}
    assert check_storage_settings() == []


@pytest.mark.parametrize(
    "aws, options, word",
    [
        ({"BUCKT": "b"}, {}, "BUCKT"),
        ({}, {"bucket": "x"}, "'bucket'"),
        ({"REGION": "eu west"}, {}, "region_name"),
    ],
)
def test_system_check_covers_the_fake_storage(settings, aws, options, word):
    settings.AWS = aws
    # An alias of its own: Django 4.2's override of STORAGES mirrors "default" into
    # DEFAULT_FILE_STORAGE, and its storage handler then drops the default's OPTIONS.
    settings.STORAGES = {
        **settings.STORAGES,
        "checked": {"BACKEND": "buckets.test.storage.FakeS3Storage", "OPTIONS": options},
    }
    errors = [e for e in check_storage_settings() if "STORAGES['checked']" in e.msg]
    assert [e.id for e in errors] == ["buckets.E001"]
    assert "FakeS3Storage" in errors[0].msg and word in errors[0].msg


class SelfCheckingStorage:
    def __init__(self, **options):
        self.options = options

    def check_settings(self):
        if self.options.get("broken"):
            raise ValueError("this storage is broken")


def test_system_check_covers_any_backend_with_check_settings(settings):
    backend = f"{__name__}.SelfCheckingStorage"
    settings.STORAGES = {
        **settings.STORAGES,
        "ok": {"BACKEND": backend},
        "broken": {"BACKEND": backend, "OPTIONS": {"broken": True}},
        "unchecked": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    errors = check_storage_settings()
    assert len(errors) == 1
    assert "STORAGES['broken']" in errors[0].msg
    assert "ValueError: this storage is broken" in errors[0].msg


def test_storages_setting_gives_s3_storage(settings):
    settings.AWS = {"BUCKET": "via-storages"}
    storage = storages.create_storage(settings.STORAGES["default"])
    assert isinstance(storage, S3Storage) and storage.bucket_name == "via-storages"


def test_storage_options_from_storages_setting(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "buckets.storage.S3Storage",
            "OPTIONS": {"bucket_name": "opt-bucket", "location": "m"},
        },
    }
    storage = storages.create_storage(settings.STORAGES["default"])
    assert storage.bucket_name == "opt-bucket" and storage.location == "m"


@pytest.mark.skipif(django.VERSION >= (5, 1), reason="DEFAULT_FILE_STORAGE was removed in 5.1")
def test_default_file_storage_on_django_42():
    """Django 4.2 maps DEFAULT_FILE_STORAGE onto STORAGES["default"] when settings load."""
    import sys
    import types

    from django.conf import Settings

    module = types.ModuleType("dfs_settings")
    module.DEFAULT_FILE_STORAGE = "buckets.storage.S3Storage"  # type: ignore[attr-defined]
    module.SECRET_KEY = "x"  # type: ignore[attr-defined]
    sys.modules["dfs_settings"] = module
    try:
        loaded = Settings("dfs_settings")
    finally:
        del sys.modules["dfs_settings"]
    assert loaded.STORAGES["default"]["BACKEND"] == "buckets.storage.S3Storage"
