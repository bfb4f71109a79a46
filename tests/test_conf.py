"""Configuration: the AWS dict, storage options, clear errors and the system check."""

from __future__ import annotations

import django
import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages

from buckets import conf
from buckets.checks import check_storage_settings
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
        ({"BUCKET": "b", "MAX_FILE_SIZE": 6 * 1024**3}, "max_file_size"),
        ({"BUCKET": "b", "ADDRESSING_STYLE": "sideways"}, "addressing_style"),
        ({"BUCKET": "b", "QUERYSTRING_EXPIRE": -1}, "querystring_expire"),
        ("not a dict", "dict"),
    ],
)
def test_bad_values(settings, aws, word):
    settings.AWS = aws
    with pytest.raises(ImproperlyConfigured, match=word):
        S3Storage().check_settings()


def test_every_option_has_an_aws_key():
    for name in conf.option_names():
        key = {"bucket_name": "BUCKET", "region_name": "REGION"}.get(name, name.upper())
        assert conf.aws_key_to_option(key) == name


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
