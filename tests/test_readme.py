"""Every code block in README.rst is run here, so the documentation cannot drift.

Each block is preceded by an RST comment ``.. test: <kind>`` saying how it is run:
settings and URLconfs are executed and checked, the model and usage blocks run against a
real RGW bucket (the seed's ``https://s3.amazonaws.com/some-bucket/`` URL is rewritten to
the test bucket's endpoint: the only substitution), the template is rendered, the JSON API
example is sent to the view and its answer compared, the DRF settings and API are set up
and the API client runs against them on a live server (RGW and the fake; its site address
is the only substitution), and shell commands are run (management commands) or checked to
exist (the top-level scripts, which CI runs itself). The ``storages-*`` blocks ("Moving from
django-storages") are run by ``tests/test_storages_migration.py``: django-storages writes
rows, django-buckets reads them, on RGW (the connection settings are the only substitution).
"""

from __future__ import annotations

import importlib
import io
import json
import re
import shlex
import sys
import types
from pathlib import Path
from typing import Any

import pytest
import requests
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.management import call_command, get_commands
from django.db import connection
from django.template import engines
from django.test import Client, RequestFactory
from django.urls import resolve
from django.utils.module_loading import import_string

from buckets import conf
from tests.site_settings import apply, fake_site, s3_site

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.rst").read_text()
BLOCK = re.compile(
    r"^\.\. test: (?P<kind>[\w-]+)\n\n\.\. code-block:: (?P<lang>\w+)\n\n"
    r"(?P<body>(?:(?:  .*)?\n)+)",
    re.M,
)


def blocks(kind: str) -> list[str]:
    found = []
    for match in BLOCK.finditer(README):
        if match["kind"] == kind:
            lines = match["body"].rstrip("\n").split("\n")
            found.append("\n".join(line[2:] for line in lines) + "\n")
    return found


def test_every_code_block_is_tested():
    assert README.count(".. code-block::") == len(list(BLOCK.finditer(README)))
    known = {
        "shell",
        "settings",
        "urls",
        "models",
        "usage",
        "forms",
        "template",
        "cors",
        "http-request",
        "http-response",
        "client",
        "drf-settings",
        "drf",
        "token-client",
        "uppy",
        "pytest",  # run by tests/test_pytest_plugin.py in a downstream project of its own
        "install",  # run by tests/test_package.py into a throw-away venv
        # "Moving from django-storages": run by tests/test_storages_migration.py
        "storages-globals",
        "storages-options",
        "storages-subclass",
        "storages-model-before",
        "storages-model-after",
        "storages-migration",
        "migrate-models",  # "Moving existing media into the bucket": test_media_move_blocks
        "migrate-settings",
        "migrate-shell",
        "migrate-migration",
    }
    assert {m["kind"] for m in BLOCK.finditer(README)} == known


@pytest.mark.parametrize("code", blocks("settings"))
def test_settings_blocks(code: str):
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.rst", "exec"), namespace)
    if "AWS" in namespace:
        conf.resolve({}, namespace["AWS"])
    for params in namespace.get("STORAGES", {}).values():
        backend = import_string(params["BACKEND"])
        if hasattr(backend, "settings"):
            conf.check_option_names(params.get("OPTIONS", {}))
            if "bucket_name" in params.get("OPTIONS", {}):
                conf.resolve(params["OPTIONS"], {})
    for app in namespace.get("INSTALLED_APPS", []):
        importlib.import_module(app)
    if "INSTALLED_APPS" in namespace:
        assert "buckets" in namespace["INSTALLED_APPS"]
    if "BUCKETS_MULTIPART_THRESHOLD" in namespace:  # documented as the default: it is
        from buckets.uploads.multipart_threshold import MULTIPART_THRESHOLD

        assert namespace["BUCKETS_MULTIPART_THRESHOLD"] == MULTIPART_THRESHOLD


@pytest.mark.parametrize("code", blocks("urls"))
def test_urlconf_blocks(code: str):
    module = types.ModuleType("readme_urls")
    exec(compile(code, "README.rst", "exec"), module.__dict__)
    assert resolve("/s3/signed-url/", urlconf=module).url_name == "s3_signed_url"


def test_cors_rule_is_what_the_command_sets():
    from buckets.management.commands.buckets_cors import upload_cors_rule

    (rule,) = blocks("cors")
    assert json.loads(rule) == upload_cors_rule(["https://example.com"])


@pytest.fixture
def readme_model(transactional_db: Any) -> Any:
    """The README's model, defined by its block and given a table."""
    (code,) = blocks("models")
    namespace: dict[str, Any] = {"__name__": "tests.testapp.readme_models"}
    exec(compile(code, "README.rst", "exec"), namespace)
    model = namespace["MyModel"]
    with connection.schema_editor() as editor:
        editor.create_model(model)
    yield namespace
    with connection.schema_editor() as editor:
        editor.delete_model(model)
    from django.apps import apps

    apps.all_models["testapp"].pop("mymodel", None)
    apps.clear_cache()


@pytest.fixture(params=["fake", "rgw"])
def usage_storage(request: Any, settings: Any, tmp_path: Path) -> Any:
    """The default storage the usage block runs on: the fake, then a fresh RGW bucket."""
    if request.param == "fake":
        return apply(settings, fake_site(tmp_path))
    return request.getfixturevalue("s3_default")


def stored_keys(storage: Any) -> list[str]:
    """Every key the storage holds, staged uploads included (walked with ``listdir``)."""
    keys, folders = [], [""]
    while folders:
        folder = folders.pop()
        dirs, files = storage.listdir(folder)
        keys += [folder + name for name in files]
        folders += [folder + name + "/" for name in dirs]
    return sorted(keys)


@pytest.mark.django_db(transaction=True)
def test_usage_and_forms_blocks(readme_model, usage_storage):
    """The usage block runs as written on the fake and on RGW; its API view accepts the key
    of an upload signed for the field and the user, and refuses any other key."""
    from django.core.exceptions import ValidationError

    from buckets.uploads import field_label, new_upload_name

    (usage,) = blocks("usage")
    namespace = dict(readme_model)
    exec(compile(usage, "README.rst", "exec"), namespace)
    model = namespace["file_model"]
    assert model.file.name == "documents/report.pdf"
    assert stored_keys(usage_storage) == ["documents/report.pdf"]

    field = namespace["MyModel"]._meta.get_field("file")
    client_user = User.objects.create_user("client")
    staged = new_upload_name("new.pdf", field_label=field_label(field), user=client_user)
    usage_storage.save(staged, ContentFile(b"%PDF-1.7 new"))
    others = usage_storage.save("shared/other.pdf", ContentFile(b"%PDF-1.7 someone's"))
    for hostile in [others, staged.replace("new.pdf", "other.pdf")]:
        request = RequestFactory().post("/api/", {"key": hostile})
        request.user = client_user
        with pytest.raises(ValidationError):
            namespace["replace_file"](request, model.pk)
    request = RequestFactory().post("/api/", {"key": staged})
    request.user = User.objects.create_user("someone-else")
    with pytest.raises(ValidationError):  # signed for another user
        namespace["replace_file"](request, model.pk)
    request.user = client_user
    namespace["replace_file"](request, model.pk)
    model.refresh_from_db()
    assert model.file.name == "documents/new.pdf"
    assert model.file.read() == b"%PDF-1.7 new"
    # report.pdf is gone after the commit; the object the client named is untouched
    assert stored_keys(usage_storage) == ["documents/new.pdf", others]

    (forms_code,) = blocks("forms")
    exec(compile(forms_code, "README.rst", "exec"), namespace)
    request = RequestFactory().get("/upload/")
    request.user = User.objects.create_user("reader")
    namespace["upload"](request)
    form = namespace["MyForm"](user=request.user)
    assert form.fields["file"].user == request.user

    (template,) = blocks("template")
    html = engines["django"].from_string(template).render({"form": form}, request)
    assert "buckets/js/upload.js" in html and 'type="hidden" name="file"' in html


@pytest.mark.django_db
def test_http_example_matches_the_view(s3_default):
    (request_text,) = blocks("http-request")
    (response_text,) = blocks("http-response")
    head, _, body = request_text.partition("\n\n")
    method, path = head.split("\n")[0].split()
    client = Client()
    client.force_login(User.objects.create_user("api"))
    response = client.post(path, body, content_type="application/json")
    documented_head, _, documented_body = response_text.partition("\n\n")
    assert documented_head.split("\n")[0] == f"HTTP/1.1 {response.status_code} OK"
    assert response["Content-Type"] == "application/json"
    documented = json.loads(documented_body)
    answer = response.json()
    assert set(answer) == set(documented)
    assert set(answer["fields"]) == set(documented["fields"])
    assert answer["fields"]["key"].startswith("uploads/")
    assert answer["fields"]["key"].endswith("/file.txt")
    assert len(answer["fields"]["key"]) == len(documented["fields"]["key"])


def test_shell_blocks(s3_default, settings):
    """Management commands run for real (against RGW); scripts and packages must exist."""
    settings.CSRF_TRUSTED_ORIGINS = ["https://example.com"]
    ran = 0
    for block in blocks("shell"):
        for line in block.splitlines():
            command = line.split("#", 1)[0].strip()
            if not command:
                continue
            words = shlex.split(command)
            while words and "=" in words[0]:  # PYENV_VERSION=... prefix
                words.pop(0)
            if words[0].startswith("./") or words[0].startswith(".venv/"):
                assert (ROOT / words[0]).name in {"run-demo", "run-tests", "run-bench", "tox"}
                if words[0].startswith("./"):
                    assert (ROOT / words[0]).stat().st_mode & 0o111, words[0]
            elif words[:2] == ["pip", "install"]:
                pytest.fail(f"pip install belongs in the tested 'install' block: {line!r}")
            elif words[:2] == ["python", "manage.py"]:
                assert words[2] in get_commands()
                call_command(*words[2:], stdout=io.StringIO())
                ran += 1
            else:
                pytest.fail(f"README shell line not covered: {line!r}")
    assert ran == 4


def _readme_module(name: str, code: str, **names: Any) -> types.ModuleType:
    """A module ``name`` (importable while the test runs) made by running a README block,
    with ``names`` set first."""
    module = types.ModuleType(name)
    module.__dict__.update(names)
    sys.modules[name] = module
    exec(compile(code, "README.rst", "exec"), module.__dict__)
    return module


@pytest.fixture
def myapp(readme_model: dict[str, Any]) -> Any:
    """``myapp.models`` as the README's API blocks import it: the README's ``MyModel``."""
    models = types.ModuleType("myapp.models")
    models.MyModel = readme_model["MyModel"]  # type: ignore[attr-defined]
    package = types.ModuleType("myapp")
    package.models = models  # type: ignore[attr-defined]
    sys.modules.update({"myapp": package, "myapp.models": models})
    yield readme_model["MyModel"]
    for name in ("myapp", "myapp.models", "readme_api", "readme_uploads"):
        sys.modules.pop(name, None)


@pytest.fixture(params=["rgw", "fake"])
def readme_site(request: pytest.FixtureRequest, settings: Any, tmp_path: Path) -> Any:
    """The default storage on a fresh RGW bucket or on the fake."""
    if request.param == "rgw":
        values = s3_site(request.getfixturevalue("rgw"), request.getfixturevalue("bucket"))
    else:
        values = fake_site(tmp_path)
    return apply(settings, values)


def _with_fake_endpoints(module: types.ModuleType, storage: Any) -> None:
    """On the fake, the bucket is the site itself: add its endpoints to a README URLconf
    (which includes ``buckets.urls``, as a project on S3 does)."""
    if storage.__class__.__name__ == "FakeS3Storage":
        import buckets.test.urls

        module.urlpatterns += buckets.test.urls.urlpatterns[1:]  # not buckets.urls again


@pytest.mark.django_db(transaction=True)
def test_drf_client_block_runs_as_written(myapp, readme_site, live_server, settings):
    """README's complete API client, against the README's settings and API on a live
    server: authenticate, sign, upload (to RGW, or the fake), save, read back. The only
    substitution is the site's address."""
    (settings_code,) = blocks("drf-settings")
    namespace: dict[str, Any] = {"INSTALLED_APPS": list(settings.INSTALLED_APPS)}
    exec(compile(settings_code, "README.rst", "exec"), namespace)
    assert set(namespace["INSTALLED_APPS"]) <= set(settings.INSTALLED_APPS)  # migrated here
    settings.REST_FRAMEWORK = namespace["REST_FRAMEWORK"]
    settings.BUCKETS_UPLOAD_PERMISSION = namespace["BUCKETS_UPLOAD_PERMISSION"]

    (api_code,) = blocks("drf")
    api = _readme_module("readme_api", api_code)
    _with_fake_endpoints(api, readme_site)
    settings.ROOT_URLCONF = "readme_api"
    User.objects.create_user("alice", password="alice's password")

    (client,) = blocks("client")
    placeholder = 'site = "http://127.0.0.1:8000"'
    assert placeholder in client
    client = client.replace(placeholder, f"site = {live_server.url!r}")
    namespace = {}
    exec(compile(client, "README.rst", "exec"), namespace)

    row = myapp.objects.get()
    staged = namespace["signed"]["fields"]["key"]
    assert row.file.name == namespace["file"]["key"] == "documents/report.pdf"
    assert readme_site.exists(row.file.name) and not readme_site.exists(staged)


@pytest.mark.django_db(transaction=True)
def test_token_client_block(myapp, live_server, settings, tmp_path):
    """The permission check of a project without DRF binds the upload to the token's user,
    and the view's check accepts it for that user only."""
    from django.core import signing
    from django.core.exceptions import ValidationError

    from buckets.uploads import field_token

    apply(settings, fake_site(tmp_path, "tests.conformance.urls"))
    (code,) = blocks("token-client")
    uploads = _readme_module("readme_uploads", code)
    settings.BUCKETS_UPLOAD_PERMISSION = "readme_uploads.token_user"
    alice = User.objects.create_user("alice")
    bob = User.objects.create_user("bob")

    def token_request(user: User) -> Any:
        token = signing.dumps(user.pk, salt="myproject.api-token")
        return RequestFactory().post("/api/", HTTP_AUTHORIZATION=f"Token {token}")

    headers = {"Authorization": token_request(alice).headers["Authorization"]}
    body = {"key": "report.pdf", "field": field_token(myapp._meta.get_field("file"))}
    signed = requests.post(
        f"{live_server.url}/s3/signed-url/", json=body, headers=headers, timeout=30
    ).json()
    upload = requests.post(
        signed["url"], data=signed["fields"], files={"file": ("report.pdf", b"%PDF-1.7")}
    )
    assert upload.status_code == 204
    key = signed["fields"]["key"]
    assert uploads.checked_file(token_request(alice), key) == key  # alice signed it
    with pytest.raises(ValidationError):
        uploads.checked_file(token_request(bob), key)
    with pytest.raises(ValidationError):
        uploads.checked_file(RequestFactory().post("/api/"), key)  # no token: no user
    no_token = requests.post(f"{live_server.url}/s3/signed-url/", json=body, timeout=30)
    assert no_token.status_code == 403  # the check refuses a request without a token


def _js_statements(code: str) -> str:
    """JavaScript with comments, white space and semicolons removed, for comparison."""
    code = re.sub(r"//[^\n]*", "", code)
    return re.sub(r"[\s;]+", "", code)


def test_uppy_block_is_what_the_browser_test_runs():
    """README's Uppy setup is the page ``tests/browser/test_uppy.py`` drives in Chromium: every
    option and the metadata line appear there as written (``shouldUseMultipart`` is the
    page's per-test switch, true for the tests in parts)."""
    (code,) = blocks("uppy")
    page = _js_statements((ROOT / "tests/browser/templates/uppy.html").read_text())
    lines = [line for line in code.splitlines() if "shouldUseMultipart" not in line]
    options = _js_statements("\n".join(lines)).replace("uppy.use(AwsS3,{", "").split("})")
    assert "shouldUseMultipart:true" in _js_statements(code)
    for statement in [options[0], options[1]]:
        assert statement and statement.rstrip(",") in page, statement


def _exec_model(code: str) -> Any:
    """The model a README block defines, in the test app, with its table."""
    namespace: dict[str, Any] = {"__name__": "tests.testapp.readme_media"}
    exec(compile(code, "README.rst", "exec"), namespace)
    return namespace["Invoice"]


def _forget_model() -> None:
    from django.apps import apps

    apps.all_models["testapp"].pop("invoice", None)
    apps.clear_cache()


def _run_shell(block: str) -> list[str]:
    """Each ``python manage.py`` line of a block, run; the README's app ``shop`` is the
    test app here (the one substitution)."""
    outputs = []
    for line in block.splitlines():
        words = shlex.split(line)
        assert words[:2] == ["python", "manage.py"], line
        out = io.StringIO()
        args = [w.replace("shop.", "testapp.") for w in words[3:]]
        call_command(words[2], *args, stdout=out)
        outputs.append(out.getvalue())
    return outputs


@pytest.mark.django_db(transaction=True)
def test_media_move_blocks(settings, tmp_path, rgw, s3, bucket):
    """The whole move as the README tells it: copy, switch the storage, AlterField, check."""
    from django.db.migrations.state import ModelState, ProjectState

    before_code, after_code = blocks("migrate-models")
    disk_settings, bucket_settings = blocks("migrate-settings")
    copy_block, check_block = blocks("migrate-shell")
    (migration_code,) = blocks("migrate-migration")

    def storages(code: str) -> dict[str, Any]:
        namespace: dict[str, Any] = {}
        exec(compile(code, "README.rst", "exec"), namespace)
        for params in namespace["STORAGES"].values():
            if "bucket_name" in params.get("OPTIONS", {}):
                documented = params["OPTIONS"]
                params["OPTIONS"] = rgw.storage_options(bucket, location=documented["location"])
        return namespace["STORAGES"]

    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = storages(disk_settings)
    before = _exec_model(before_code)
    files = {f"invoices/{n}": n.encode() * 50 for n in ("März 2024.pdf", "a+b c.pdf", "x.pdf")}
    try:
        with connection.schema_editor() as editor:
            editor.create_model(before)
        for name, data in files.items():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_bytes(data)
            before.objects.create(pdf=name)

        dry, copied = _run_shell(copy_block)
        assert "Dry run: 3 to copy" in dry and "3 copied" in copied
        assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]) == sorted(
            f"media/{name}" for name in files
        )

        settings.STORAGES = storages(bucket_settings)
        _forget_model()
        after = _exec_model(after_code)
        namespace: dict[str, Any] = {}
        exec(compile(migration_code, "README.rst", "exec"), namespace)
        (operation,) = namespace["Migration"].operations
        # makemigrations would write exactly this field for the new model
        assert operation.field.deconstruct()[1:] == after._meta.get_field("pdf").deconstruct()[1:]
        old_state = ProjectState()
        old_state.add_model(ModelState.from_model(before))
        new_state = old_state.clone()
        operation.state_forwards("testapp", new_state)
        with connection.schema_editor() as editor:
            operation.database_forwards("testapp", editor, old_state, new_state)
        for row in after.objects.all():  # the same names, now read from the bucket
            assert row.pdf.read() == files[row.pdf.name]

        (check,) = _run_shell(check_block)
        assert "Dry run: 0 to copy, 0 to replace (0 B), 3 already there and identical" in check
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(before)
        _forget_model()
