"""django-storages' options that change what is stored or linked, on a real RGW bucket: a
subclass's class attributes, gzip, CloudFront signed URLs."""

from __future__ import annotations

import base64
import gzip
import json
import os
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from boto3.s3.transfer import TransferConfig
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.core.files.base import ContentFile

from buckets.storage import S3Storage

CSS = b"body { color: red; }\n" * 2000


def storages_backend(rgw, bucket, **extra):
    """django-storages 1.14's own storage on the same bucket."""
    from storages.backends.s3 import S3Storage as DjangoStoragesS3

    return DjangoStoragesS3(**rgw.storage_options(bucket, **extra))


def test_subclass_class_attributes_apply(rgw, bucket):
    class PublicMedia(S3Storage):
        location = "media"
        default_acl = "public-read"
        querystring_auth = False
        file_overwrite = True
        object_parameters = {"CacheControl": "max-age=86400"}  # noqa: RUF012

    storage = PublicMedia(**rgw.storage_options(bucket))
    name = storage.save("a.txt", ContentFile(b"one"))
    assert storage.save("a.txt", ContentFile(b"two")) == name == "a.txt"  # overwritten
    url = storage.url(name)
    assert url == f"{rgw.endpoint_url}/{bucket}/media/a.txt"  # unsigned
    response = requests.get(url, timeout=10)  # anonymous: the object is public-read
    assert response.status_code == 200 and response.content == b"two"
    assert response.headers["Cache-Control"] == "max-age=86400"


def test_gzip_stores_compressed_and_reads_back_the_original(rgw, s3, bucket):
    storage = S3Storage(**rgw.storage_options(bucket, gzip=True))
    name = storage.save("site.css", ContentFile(CSS))
    stored = s3.get_object(Bucket=bucket, Key=name)
    assert stored["ContentEncoding"] == "gzip"
    assert stored["ContentType"] == "text/css"
    body = stored["Body"].read()
    assert gzip.decompress(body) == CSS and len(body) < len(CSS) // 10
    assert storage.size(name) == len(body)  # the stored size, as django-storages says
    with storage.open(name) as f:
        assert f.read() == CSS
    with storage.open(name) as f:  # streaming reads, in pieces
        assert b"".join(iter(lambda: f.read(1000), b"")) == CSS
    # A browser (requests here) decompresses it itself.
    assert requests.get(storage.url(name), timeout=10).content == CSS


def test_gzip_leaves_other_types_and_explicit_encodings_alone(rgw, s3, bucket):
    storage = S3Storage(**rgw.storage_options(bucket, gzip=True))
    png = storage.save("logo.png", ContentFile(b"\x89PNG" + b"x" * 100))
    assert "ContentEncoding" not in s3.head_object(Bucket=bucket, Key=png)
    explicit = S3Storage(
        **rgw.storage_options(bucket, gzip=True, object_parameters={"ContentEncoding": "identity"})
    )
    css = explicit.save("plain.css", ContentFile(CSS))
    assert s3.get_object(Bucket=bucket, Key=css)["Body"].read() == CSS
    listed = S3Storage(**rgw.storage_options(bucket, gzip=True, gzip_content_types=["text/plain"]))
    txt = listed.save("notes.txt", ContentFile(b"words " * 500))
    assert s3.head_object(Bucket=bucket, Key=txt)["ContentEncoding"] == "gzip"


def test_gzip_off_reads_the_stored_bytes_as_django_storages_does(rgw, s3, bucket):
    S3Storage(**rgw.storage_options(bucket, gzip=True)).save("a.css", ContentFile(CSS))
    with S3Storage(**rgw.storage_options(bucket)).open("a.css") as f:
        assert gzip.decompress(f.read()) == CSS
    with storages_backend(rgw, bucket).open("a.css") as f:
        assert gzip.decompress(f.read()) == CSS


def test_gzip_large_file_spools_to_disk_and_goes_multipart(rgw, s3, bucket):
    data = os.urandom(6 * 1024 * 1024)  # does not compress: stays above the threshold
    config = TransferConfig(
        multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024
    )
    storage = S3Storage(
        **rgw.storage_options(
            bucket,
            gzip=True,
            gzip_content_types=["application/octet-stream"],
            transfer_config=config,
            max_memory_size=1024 * 1024,
        )
    )
    name = storage.save("blob.bin", ContentFile(data))
    head = s3.head_object(Bucket=bucket, Key=name)
    assert head["ContentEncoding"] == "gzip" and "-" in head["ETag"]  # a multipart upload
    with storage.open(name) as f:
        assert f.read() == data


def test_gzip_objects_cross_read_with_django_storages(rgw, s3, bucket):
    ours = S3Storage(**rgw.storage_options(bucket, gzip=True, file_overwrite=True))
    theirs = storages_backend(rgw, bucket, gzip=True)
    theirs.save("theirs.css", ContentFile(CSS))
    ours.save("ours.css", ContentFile(CSS))
    for name in ("theirs.css", "ours.css"):
        assert s3.head_object(Bucket=bucket, Key=name)["ContentEncoding"] == "gzip"
        with ours.open(name) as f:
            assert f.read() == CSS
        with theirs.open(name) as f:
            assert f.read() == CSS


# -- CloudFront signed URLs -------------------------------------------------------------------


@pytest.fixture(scope="module")
def cloudfront_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def cloudfront_b64decode(text: str) -> bytes:
    return base64.b64decode(text.replace("-", "+").replace("_", "=").replace("~", "/"))


def test_cloudfront_signed_url_verifies_with_the_public_key(rgw, bucket, cloudfront_key):
    storage = S3Storage(
        **rgw.storage_options(
            bucket,
            custom_domain="cdn.example.com",
            cloudfront_key_id="K2JCJMDEHXQW5F",
            cloudfront_key=pem(cloudfront_key),
            location="media",
        )
    )
    before = int(datetime.now(timezone.utc).timestamp())
    url = storage.url("a b/r.pdf", expire=300)
    after = int(datetime.now(timezone.utc).timestamp())
    parts = urlsplit(url)
    unsigned = f"{parts.scheme}://{parts.netloc}{parts.path}"
    assert unsigned == "https://cdn.example.com/media/a%20b/r.pdf"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert set(query) == {"Expires", "Signature", "Key-Pair-Id"}
    assert query["Key-Pair-Id"] == "K2JCJMDEHXQW5F"
    expires = int(query["Expires"])
    assert before + 300 <= expires <= after + 300
    policy = json.dumps(
        {
            "Statement": [
                {"Resource": unsigned, "Condition": {"DateLessThan": {"AWS:EpochTime": expires}}}
            ]
        },
        separators=(",", ":"),
    ).encode()
    cloudfront_key.public_key().verify(  # raises InvalidSignature if wrong
        cloudfront_b64decode(query["Signature"]), policy, padding.PKCS1v15(), hashes.SHA1()
    )
    # Unsigned where django-storages leaves them unsigned: querystring_auth off.
    public = S3Storage(
        **rgw.storage_options(
            bucket,
            custom_domain="cdn.example.com",
            querystring_auth=False,
            cloudfront_key_id="K2JCJMDEHXQW5F",
            cloudfront_key=pem(cloudfront_key),
        )
    )
    assert public.url("r.pdf") == "https://cdn.example.com/r.pdf"


def test_cloudfront_url_is_django_storages_url(rgw, bucket, cloudfront_key, monkeypatch):
    import storages.backends.s3 as storages_s3

    import buckets.storage.cloudfront as ours_module

    frozen = datetime(2026, 12, 6, 12, 0, 0)

    class FrozenDatetime(datetime):
        @classmethod
        def utcnow(cls):
            return frozen

        @classmethod
        def now(cls, tz=None):
            return frozen.replace(tzinfo=tz) if tz else frozen

    monkeypatch.setattr(storages_s3, "datetime", FrozenDatetime)
    monkeypatch.setattr(ours_module, "datetime", FrozenDatetime)
    options = {
        "custom_domain": "cdn.example.com",
        "cloudfront_key_id": "K2JCJMDEHXQW5F",
        "cloudfront_key": pem(cloudfront_key),
    }
    ours = S3Storage(**rgw.storage_options(bucket, **options))
    theirs = storages_backend(rgw, bucket, **options)
    for name in ("r.pdf", "dir/a b.txt", "ü.txt", "a(1)'!*.pdf"):
        assert ours.url(name) == theirs.url(name)


def test_get_object_parameters_override_applies_per_object(rgw, s3, bucket):
    """django-storages' documented hook for per-object parameters, overridden in a subclass."""

    class Downloads(S3Storage):
        def get_object_parameters(self, name):
            params = super().get_object_parameters(name)
            if name.endswith(".pdf"):
                params["ContentDisposition"] = "attachment"
            return params

    storage = Downloads(
        **rgw.storage_options(bucket, object_parameters={"CacheControl": "no-cache"})
    )
    pdf = storage.save("r.pdf", ContentFile(b"%PDF"))
    txt = storage.save("r.txt", ContentFile(b"text"))
    head = s3.head_object(Bucket=bucket, Key=pdf)
    assert (head["ContentDisposition"], head["CacheControl"]) == ("attachment", "no-cache")
    assert "ContentDisposition" not in s3.head_object(Bucket=bucket, Key=txt)
    with storage.open("w.pdf", "wb") as f:
        f.write(b"%PDF written")
    assert s3.head_object(Bucket=bucket, Key="w.pdf")["ContentDisposition"] == "attachment"
    copied = storage.copy_to_available_name(txt, "copy.pdf")  # as a staged upload moves
    assert s3.head_object(Bucket=bucket, Key=copied)["ContentDisposition"] == "attachment"


def test_fake_storage_gzips_as_s3storage_does(settings, tmp_path):
    from buckets.test.disk import read_headers
    from buckets.test.storage import FakeS3Storage

    settings.MEDIA_ROOT = str(tmp_path)
    fake = FakeS3Storage(gzip=True)
    name = fake.save("site.css", ContentFile(CSS))
    path = fake._object_path(name)
    assert read_headers(path)["Content-Encoding"] == "gzip"
    with open(path, "rb") as stored:
        assert gzip.decompress(stored.read()) == CSS
    with fake.open(name) as f:
        assert f.read() == CSS
    assert fake.size(name) == os.path.getsize(path)


ODD_NAMES = ["a(1).pdf", "a'b.pdf", "a!b*c.txt", "a b/é~.txt", "a+b;c=d@e,f$g&h:i.txt", "%28.txt"]


@pytest.mark.parametrize(
    "options",
    [{"custom_domain": "cdn.example.com"}, {"querystring_auth": False}, {"location": "m(1)"}],
)
def test_unsigned_urls_are_django_storages_strings_for_any_name(rgw, bucket, options):
    ours = S3Storage(**rgw.storage_options(bucket, **options))
    theirs = storages_backend(rgw, bucket, **options)
    for name in ODD_NAMES:
        url = ours.url(name)
        if "X-Amz-Signature" in url:  # signed: compare all but the signature and time
            continue
        assert url == theirs.url(name)
        assert ours.name_from_url(url) == name  # and the field still recognises it


def test_custom_domain_urls_keep_django_storages_escaping_and_public_urls_boto3s(rgw, bucket):
    cdn = S3Storage(**rgw.storage_options(bucket, custom_domain="cdn.example.com"))
    assert cdn.url("a(1)'!*.pdf") == "https://cdn.example.com/a(1)'!*.pdf"
    assert cdn.url("%28 x.txt") == "https://cdn.example.com/%2528%20x.txt"
    public = S3Storage(
        **rgw.storage_options(bucket, querystring_auth=False, default_acl="public-read")
    )
    name = public.save("a(1).txt", ContentFile(b"paren"))
    url = public.url(name)
    assert url.endswith("/a%281%29.txt")  # as boto3 escapes it
    assert requests.get(url, timeout=10).content == b"paren"
