"""File-name cleaning, field tokens and staging names (``buckets.uploads``): no server needed."""

from __future__ import annotations

import re
import time
import unicodedata
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from buckets import uploads
from buckets.signing.limits import MAX_KEY_BYTES, MAX_OBJECT_SIZE, S3_MAX_POST_SIZE
from buckets.uploads import (
    InvalidFieldToken,
    InvalidFilename,
    check_upload_name,
    clean_filename,
    field_label,
    field_token,
    field_tokens,
    new_upload_name,
    resolve_field_token,
    staging_names,
)
from tests.testapp.models import Avatar, Document

# -- clean_filename ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("file.txt", "file.txt"),
        ("john's portrait in 2004.jpg", "johns_portrait_in_2004.jpg"),
        ("  spaced  out .pdf ", "spaced_out_.pdf"),
        ("Relevé été.pdf", "Relevé_été.pdf"),
        ("日本語のファイル.png", "日本語のファイル.png"),
        ("Ünïcödé-ñame_1.tar.gz", "Ünïcödé-ñame_1.tar.gz"),
        ("../../etc/passwd", "passwd"),
        ("/abs/path/to/file.txt", "file.txt"),
        ("C:\\Users\\me\\Desktop\\report.docx", "report.docx"),
        ("dir/sub\\mixed/name.txt", "name.txt"),
        ("a\x00b\x01c\x7fd\x1b.txt", "abcd.txt"),
        ("tab\there\nnew.txt", "tab_here_new.txt"),
        ("${filename}.txt", "filename.txt"),
        ("<img src=x onerror=alert(1)>.html", "img_srcx_onerroralert1.html"),
        ("\u202etxt.exe", "txt.exe"),  # right-to-left override: a spoofing trick
        (".hidden", ".hidden"),
    ],
)
def test_clean_filename(raw: str, clean: str) -> None:
    assert clean_filename(raw) == clean


def test_clean_filename_normalises_to_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "café.txt")
    assert decomposed != "café.txt"
    assert clean_filename(decomposed) == "café.txt"


@pytest.mark.parametrize(
    "raw", ["", " ", ".", "..", "...", "../", "a/..", "dir/", "\x00", "\x00\x01", "!!!@#", "🙂"]
)
def test_clean_filename_refuses_names_that_clean_to_nothing(raw: str) -> None:
    with pytest.raises(InvalidFilename):
        clean_filename(raw)


def test_invalid_filename_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        clean_filename("/")


@pytest.mark.parametrize("bad", [None, 3, b"file.txt", ["a"]])
def test_clean_filename_refuses_non_strings(bad: Any) -> None:
    with pytest.raises(InvalidFilename):
        clean_filename(bad)


def test_long_name_is_capped_keeping_the_extension() -> None:
    name = clean_filename("x" * 500 + ".jpeg")
    assert len(name) == uploads.MAX_FILENAME_LENGTH
    assert name.endswith(".jpeg")
    assert name.startswith("x" * 100)


def test_long_name_without_a_real_extension_is_cut() -> None:
    assert clean_filename("y" * 400) == "y" * uploads.MAX_FILENAME_LENGTH
    # A "extension" as long as the name is not kept whole.
    long_ext = clean_filename("a." + "b" * 300)
    assert len(long_ext) == uploads.MAX_FILENAME_LENGTH
    assert long_ext.startswith("a.b")


def test_long_unicode_name_fits_an_s3_key() -> None:
    name = clean_filename("漢" * 1000 + ".txt")
    assert len(name) == uploads.MAX_FILENAME_LENGTH
    assert len(name.encode("utf-8")) < MAX_KEY_BYTES - 100  # room for the prefix and random part


def test_clean_filename_refuses_names_over_the_input_limit() -> None:
    """Regression (issue 12): the whole client string was NFC-normalised, however long."""
    limit = uploads.MAX_INPUT_LENGTH
    assert clean_filename("a" * (limit - 4) + ".txt") == "a" * 146 + ".txt"
    with pytest.raises(InvalidFilename, match="too long"):
        clean_filename("a" * (limit - 3) + ".txt")


@hsettings(deadline=None)  # no timing assertion: a loaded machine must not fail it
@given(st.text(max_size=300))
def test_clean_filename_output_is_always_safe(raw: str) -> None:
    try:
        name = clean_filename(raw)
    except InvalidFilename:
        return
    assert name
    assert name.strip(".")
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zs") for c in name)
    assert len(name) <= uploads.MAX_FILENAME_LENGTH
    assert re.fullmatch(r"[-\w.]+", name)
    assert name.encode("utf-8")  # no lone surrogates
    assert clean_filename(name) == name  # idempotent: the field may clean again


# -- field tokens ------------------------------------------------------------------------


def test_field_label() -> None:
    assert field_label(Avatar._meta.get_field("image")) == "testapp.avatar.image"
    assert field_label(Document._meta.get_field("file")) == "testapp.document.file"


def test_field_label_needs_a_model_field() -> None:
    from buckets.fields import S3FileField

    with pytest.raises(ValueError):
        field_label(S3FileField())


def test_field_token_round_trip() -> None:
    field = Avatar._meta.get_field("pdf")
    token = field_token(field)
    assert resolve_field_token(token) is field
    assert resolve_field_token(token, max_age=60) is field


def test_field_token_is_signed_with_its_own_salt() -> None:
    token = field_token(Avatar._meta.get_field("image"))
    # Another signer (another salt) cannot read it, and a plain signed value is no token.
    with pytest.raises(signing.BadSignature):
        signing.TimestampSigner().unsign(token)
    forged = signing.TimestampSigner().sign("testapp.avatar.image")
    with pytest.raises(InvalidFieldToken, match="Invalid field token"):
        resolve_field_token(forged)


@pytest.mark.parametrize(
    "bad",
    ["", "garbage", "testapp.avatar.image", "a:b:c", ":::", "é:é", "\x00", None, 5, ["x"]],
)
def test_bad_tokens_are_refused_clearly(bad: Any) -> None:
    with pytest.raises(InvalidFieldToken, match="Invalid field token"):
        resolve_field_token(bad)


def test_tampered_token_is_refused() -> None:
    token = field_token(Avatar._meta.get_field("image"))
    label, rest = token.split(":", 1)
    with pytest.raises(InvalidFieldToken, match="Invalid field token"):
        resolve_field_token(f"testapp.avatar.pdf:{rest}")
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    with pytest.raises(InvalidFieldToken):
        resolve_field_token(flipped)


def test_expired_token_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    token = field_token(Avatar._meta.get_field("image"))
    later = time.time() + 3600
    monkeypatch.setattr(signing.time, "time", lambda: later)
    with pytest.raises(InvalidFieldToken, match="expired") as caught:
        resolve_field_token(token, max_age=60)
    assert caught.value.field is Avatar._meta.get_field("image")  # authentic: its field
    assert resolve_field_token(token, max_age=7200).name == "image"


def test_only_an_expired_token_names_its_field() -> None:
    for bad in (
        "forged",
        "x" * (uploads.MAX_INPUT_LENGTH + 1),
        field_token(Avatar._meta.get_field("image")) + "0",
    ):
        with pytest.raises(InvalidFieldToken) as caught:
            resolve_field_token(bad)
        assert caught.value.field is None


def test_token_max_age_setting(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    token = field_token(Avatar._meta.get_field("image"))
    later = time.time() + 120
    monkeypatch.setattr(signing.time, "time", lambda: later)
    assert resolve_field_token(token).name == "image"  # default: a day
    settings.BUCKETS_FIELD_TOKEN_MAX_AGE = 60
    with pytest.raises(InvalidFieldToken, match="expired"):
        resolve_field_token(token)


@pytest.mark.parametrize(
    "label",
    ["testapp.nosuchmodel.file", "nosuchapp.avatar.image", "testapp.avatar.nosuchfield"],
)
def test_token_naming_an_unknown_field_is_refused(label: str) -> None:
    token = signing.TimestampSigner(salt=field_tokens._TOKEN_SALT).sign(label)
    with pytest.raises(InvalidFieldToken, match="unknown field"):
        resolve_field_token(token)


def test_token_naming_a_field_that_is_not_an_s3_file_field_is_refused() -> None:
    token = signing.TimestampSigner(salt=field_tokens._TOKEN_SALT).sign("testapp.document.name")
    with pytest.raises(InvalidFieldToken, match="unknown field"):
        resolve_field_token(token)


# -- staging names -----------------------------------------------------------------------

ALICE = User(pk=1, username="alice")
BOB = User(pk=2, username="bob")
LABEL = "testapp.avatar.image"


def test_staging_name_format() -> None:
    name = new_upload_name("My photo.JPG", field_label=LABEL, user=ALICE)
    prefix, segment, filename = name.split("/")
    assert prefix == "uploads"
    assert re.fullmatch(r"[0-9a-f]{48}", segment)
    assert filename == "My_photo.JPG"


def test_staging_name_uses_the_given_prefix() -> None:
    name = new_upload_name("a.txt", field_label=None, user=None, prefix="in/coming/")
    assert name.startswith("in/coming/")
    assert check_upload_name(name, field_label=None, user=None)
    assert check_upload_name(name, field_label=None, user=None, prefix="in/coming/")
    assert not check_upload_name(name, field_label=None, user=None, prefix="uploads/")
    bare = new_upload_name("a.txt", field_label=None, user=None, prefix="")
    assert re.fullmatch(r"[0-9a-f]{48}/a\.txt", bare)
    assert check_upload_name(bare, field_label=None, user=None, prefix="")


def test_staging_names_are_random() -> None:
    names = {new_upload_name("file.txt", field_label=None, user=ALICE) for _ in range(200)}
    assert len(names) == 200


def test_staging_name_refuses_a_name_that_cleans_to_nothing() -> None:
    with pytest.raises(InvalidFilename):
        new_upload_name("../", field_label=None, user=ALICE)


def test_check_accepts_its_own_names() -> None:
    name = new_upload_name("file.txt", field_label=LABEL, user=ALICE)
    assert check_upload_name(name, field_label=LABEL, user=ALICE) is True


def test_mac_binds_the_user() -> None:
    name = new_upload_name("file.txt", field_label=LABEL, user=ALICE)
    assert not check_upload_name(name, field_label=LABEL, user=BOB)
    assert not check_upload_name(name, field_label=LABEL, user=AnonymousUser())
    # Same pk, another object: the pk is what is bound.
    assert check_upload_name(name, field_label=LABEL, user=User(pk=1, username="x"))


def test_user_none_checks_the_field_binding_only() -> None:
    """A form that does not know its user still refuses another field's upload."""
    name = new_upload_name("file.txt", field_label=LABEL, user=ALICE)
    assert check_upload_name(name, field_label=LABEL, user=None)
    assert not check_upload_name(name, field_label="testapp.avatar.pdf", user=None)
    assert not check_upload_name(name, field_label=None, user=None)
    prefix, segment, filename = name.split("/")
    # The field mac cannot be kept while the user mac is forged, nor the reverse.
    for i in (16, 47):
        flipped = segment[:i] + ("0" if segment[i] != "0" else "1") + segment[i + 1 :]
        forged = f"{prefix}/{flipped}/{filename}"
        assert not check_upload_name(forged, field_label=LABEL, user=ALICE)
    flipped_user_mac = segment[:47] + ("0" if segment[47] != "0" else "1")
    assert check_upload_name(
        f"{prefix}/{flipped_user_mac}/{filename}", field_label=LABEL, user=None
    )
    flipped_field_mac = segment[:16] + ("0" if segment[16] != "0" else "1") + segment[17:]
    assert not check_upload_name(
        f"{prefix}/{flipped_field_mac}/{filename}", field_label=LABEL, user=None
    )


def test_mac_binds_the_field() -> None:
    name = new_upload_name("file.txt", field_label=LABEL, user=ALICE)
    assert not check_upload_name(name, field_label="testapp.avatar.pdf", user=ALICE)
    assert not check_upload_name(name, field_label=None, user=ALICE)
    plain = new_upload_name("file.txt", field_label=None, user=ALICE)
    assert check_upload_name(plain, field_label=None, user=ALICE)
    assert not check_upload_name(plain, field_label=LABEL, user=ALICE)


def test_anonymous_names_bind_to_no_user() -> None:
    for anonymous in (AnonymousUser(), None):
        name = new_upload_name("file.txt", field_label=LABEL, user=anonymous)
        assert check_upload_name(name, field_label=LABEL, user=AnonymousUser())
        assert check_upload_name(name, field_label=LABEL, user=None)
        assert not check_upload_name(name, field_label=LABEL, user=ALICE)


def test_mac_binds_the_whole_name() -> None:
    name = new_upload_name("file.txt", field_label=LABEL, user=ALICE)
    prefix, segment, filename = name.split("/")
    assert not check_upload_name(f"{prefix}/{segment}/other.txt", field_label=LABEL, user=ALICE)
    assert not check_upload_name(f"elsewhere/{segment}/file.txt", field_label=LABEL, user=ALICE)
    assert not check_upload_name(f"{segment}/file.txt", field_label=LABEL, user=ALICE)
    assert not check_upload_name(f"x/{name}", field_label=LABEL, user=ALICE)
    flipped = segment[:-1] + ("0" if segment[-1] != "0" else "1")
    assert not check_upload_name(f"{prefix}/{flipped}/file.txt", field_label=LABEL, user=ALICE)
    other_nonce = ("f" if segment[0] != "f" else "e") + segment[1:]
    assert not check_upload_name(f"{prefix}/{other_nonce}/file.txt", field_label=LABEL, user=ALICE)


def test_mac_depends_on_secret_key(settings: Any) -> None:
    name = new_upload_name("file.txt", field_label=LABEL, user=ALICE)
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "another-secret"
    assert not check_upload_name(name, field_label=LABEL, user=ALICE)
    assert not check_upload_name(name, field_label=LABEL, user=None)
    # A key rotation keeps names signed with the previous key valid.
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert check_upload_name(name, field_label=LABEL, user=ALICE)
    assert not check_upload_name(name, field_label=LABEL, user=BOB)


def test_mac_is_salted_hmac() -> None:
    """The MAC is django.utils.crypto.salted_hmac (SHA-256), truncated to 16 hex digits."""
    from django.utils.crypto import salted_hmac

    name = new_upload_name("file.txt", field_label=LABEL, user=ALICE)
    prefix, segment, filename = name.split("/")
    bare = f"{prefix}/{segment[:16]}/{filename}"
    field_msg = f"{len(LABEL)}:{LABEL},{len(bare)}:{bare},"
    user_msg = f"{len(LABEL)}:{LABEL},1:1,{len(bare)}:{bare},"
    expect_field = salted_hmac(staging_names._FIELD_MAC_SALT, field_msg, algorithm="sha256")
    expect_user = salted_hmac(staging_names._USER_MAC_SALT, user_msg, algorithm="sha256")
    assert segment[16:32] == expect_field.hexdigest()[:16]
    assert segment[32:] == expect_user.hexdigest()[:16]


@hsettings(max_examples=200, deadline=None)
@given(
    salt=st.text(max_size=60),
    parts=st.lists(st.text(max_size=80), max_size=4),
    secret=st.one_of(st.text(min_size=1, max_size=80), st.binary(min_size=1, max_size=80)),
)
def test_bound_mac_is_salted_hmac_for_any_input(salt: str, parts: list[str], secret: Any) -> None:
    """``bound_mac`` derives and sets up ``salted_hmac``'s key once per salt and secret: the
    same digits as ``salted_hmac`` itself, whatever the salt, parts (lone surrogates too)
    and secret (text or bytes), on the Django and Python running the suite."""
    from django.utils.crypto import salted_hmac

    message = "".join(f"{len(part)}:{part}," for part in parts).encode("utf-8", "surrogatepass")
    expected = salted_hmac(salt, message, secret, algorithm="sha256").hexdigest()
    assert staging_names.bound_mac(salt, tuple(parts), secret, digits=64) == expected
    assert staging_names.bound_mac(salt, tuple(parts), secret) == expected[:16]


#: Staging names made by an earlier release (the MAC computed with a cached key and
#: ``hmac.digest``) under SECRET_KEY "a-fixed-key-for-known-names": they must keep verifying.
KNOWN_LABEL = "testapp.document.file"
KNOWN_NAMES = [
    ("uploads/0123456789abcdefa27c5240a1e59792fce8ed8cd15d32de/report.pdf", KNOWN_LABEL, 7),
    ("uploads/0123456789abcdef2c52055b3cb42048334cb9994ab0100d/report.pdf", None, None),
    ("uploads/0123456789abcdefa27c5240a1e59792010b1e3d01f4cffc/report.pdf", KNOWN_LABEL, None),
    ("uploads/0123456789abcdef546f193768ec31fccbaad6bbb3db9cd5/Relevé_été.pdf", KNOWN_LABEL, 7),
]


@pytest.mark.parametrize(("name", "label", "pk"), KNOWN_NAMES)
def test_names_signed_by_earlier_releases_still_verify(
    settings: Any, name: str, label: str | None, pk: int | None
) -> None:
    settings.SECRET_KEY = "a-fixed-key-for-known-names"
    user = AnonymousUser() if pk is None else User(pk=pk, username="u")
    assert check_upload_name(name, field_label=label, user=user)
    other = User(pk=8, username="v") if pk is not None else User(pk=7, username="u")
    assert not check_upload_name(name, field_label=label, user=other)


def test_a_lone_surrogate_in_a_posted_name_is_no_match() -> None:
    """A client may post a name with a lone surrogate (``\\ud800``): no MAC matches it,
    and nothing raises (the message is encoded with ``surrogatepass``)."""
    name = new_upload_name("file.txt", field_label=LABEL, user=ALICE)
    forged = name.replace("file.txt", "fi\ud800le.txt")
    assert check_upload_name(forged, field_label=LABEL, user=ALICE) is False
    assert uploads.is_upload_name(forged, prefix="uploads/", field_labels=[LABEL]) is False


@pytest.mark.parametrize(
    "bad",
    [
        None,
        42,
        b"uploads/x/y",
        "",
        "file.txt",
        "uploads/file.txt",
        "uploads//file.txt",
        "uploads/" + "0" * 48 + "/",
        "uploads/" + "0" * 48 + "/file.txt",
        "uploads/" + "A" * 48 + "/file.txt",
        "uploads/" + "0" * 47 + "/file.txt",
        "uploads/" + "0" * 49 + "/file.txt",
    ],
)
def test_check_refuses_anything_else_without_raising(bad: Any) -> None:
    assert check_upload_name(bad, field_label=LABEL, user=ALICE) is False


@hsettings(deadline=None)
@given(st.text(max_size=200), st.sampled_from([ALICE, None, AnonymousUser()]))
def test_check_never_raises(name: str, user: Any) -> None:
    assert check_upload_name(name, field_label=LABEL, user=user) is False


# -- the upload rules (buckets.uploads.rules) -----------------------------------------------


def test_upload_size_limit_is_the_fields_capped_by_the_storages() -> None:
    from buckets.storage import S3Storage
    from buckets.uploads import upload_size_limit

    small, large = S3Storage(max_file_size=1000), S3Storage()
    pdf = Avatar._meta.get_field("pdf")  # max_size=2048
    assert upload_size_limit(pdf, large) == 2048
    assert upload_size_limit(pdf, small) == 1000
    assert upload_size_limit(None, small) == 1000
    assert upload_size_limit(None, small, multipart=True) == 1000
    # MAX_FILE_SIZE unset: S3's limit for the path, one POST or a multipart upload.
    assert large.settings.max_file_size is None
    assert upload_size_limit(None, large) == S3_MAX_POST_SIZE
    assert upload_size_limit(None, large, multipart=True) == MAX_OBJECT_SIZE
    assert upload_size_limit(pdf, large, multipart=True) == 2048
    with pytest.raises(ImproperlyConfigured):
        upload_size_limit(pdf, object())


def test_upload_content_type_is_what_the_view_signs() -> None:
    from buckets.uploads import ContentTypeRefused, accepted_patterns, upload_content_type

    pdf = Avatar._meta.get_field("pdf")
    assert accepted_patterns(pdf) == ["application/pdf"]
    assert upload_content_type(pdf, "a.pdf") == "application/pdf"
    assert upload_content_type(pdf, "no-extension") == "application/pdf"  # one exact type
    assert upload_content_type(None, "page.html") == "application/octet-stream"
    with pytest.raises(ContentTypeRefused, match="not accepted here"):
        upload_content_type(pdf, "a.png")
