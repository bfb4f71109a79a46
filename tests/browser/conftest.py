"""Headless Chromium (Debian's, never a downloaded one) against a live Django and a real bucket.

``target`` is where uploads go: ``rgw`` (a real Ceph RGW bucket with the CORS rule the widget
needs, applied by ``manage.py buckets_cors``) and, when ``buckets.test`` is there, ``fake``
(the local fake S3 mounted in the site). Tests that only make sense against a real bucket ask
for ``rgw_target``.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from s3servers.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.site_settings import apply, fake_site

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
HAS_FAKE = importlib.util.find_spec("buckets.test.urls") is not None
TARGETS = ["rgw", "fake"] if HAS_FAKE else ["rgw"]


def pytest_configure(config: pytest.Config) -> None:
    # pytest-base-url (pulled in by pytest-playwright) and pytest 9 disagree about fixtures.
    config.addinivalue_line(
        "filterwarnings", "ignore:Session-scoped fixtures defined as instance methods"
    )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is required in CI (./run-tests installs it)", pytrace=False)
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 900, "height": 720}}


@pytest.fixture(autouse=True)
def _intercept_file_choosers(request: pytest.FixtureRequest) -> None:
    """Turn on file-chooser interception when the page opens, not at ``expect_file_chooser``.

    That call enables interception asynchronously; on a loaded machine a key press or click
    could open the (headless, invisible) native dialog first and the event would never come.
    """
    if "page" in request.fixturenames:
        request.getfixturevalue("page").on("filechooser", lambda _chooser: None)


@pytest.fixture(scope="session", autouse=True)
def _sync_orm_beside_playwright() -> Iterator[None]:
    """Let the ORM run while Playwright's sync API keeps an event loop in this thread.

    The ORM calls these tests make between browser steps are plain synchronous code. The loop
    lives until the session ends, so the setting does too, from the first browser test on
    (a session that runs no browser test never sets it).
    """
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Any) -> None:
    """``admin_user`` and the login page hash passwords; the default hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclasses.dataclass
class Target:
    """Where the browser's uploads land, and how a test looks inside it."""

    name: str
    storage: Any
    keys: Callable[[], list[str]]
    read: Callable[[str], bytes]
    bucket: str = ""
    s3: Any = None

    def remove_cors(self) -> None:
        self.s3.delete_bucket_cors(Bucket=self.bucket)


def _rgw_target(request: pytest.FixtureRequest, live_server: Any) -> Target:
    from s3servers import list_keys

    storage = request.getfixturevalue("s3_default")
    s3 = request.getfixturevalue("s3")
    bucket = storage.bucket_name
    call_command("buckets_cors", "--origin", live_server.url, stdout=io.StringIO())
    return Target(
        name="rgw",
        storage=storage,
        keys=lambda: sorted(list_keys(s3, bucket)),
        read=lambda key: s3.get_object(Bucket=bucket, Key=key)["Body"].read(),
        bucket=bucket,
        s3=s3,
    )


def _fake_target(settings: Any, tmp_path: Path) -> Target:
    default_storage = apply(settings, fake_site(tmp_path / "media", "tests.browser.urls_fake"))

    def keys() -> list[str]:
        root = Path(default_storage.root)  # type: ignore[attr-defined]
        if not root.exists():
            return []
        return sorted(
            str(p.relative_to(root))
            for p in root.rglob("*")
            if p.is_file() and ".buckets-tmp" not in p.relative_to(root).parts
        )

    def read(key: str) -> bytes:
        return (Path(default_storage.root) / key).read_bytes()  # type: ignore[attr-defined]

    return Target(name="fake", storage=default_storage, keys=keys, read=read)


@pytest.fixture(params=TARGETS)
def target(
    request: pytest.FixtureRequest, settings: Any, live_server: Any, tmp_path: Path
) -> Target:
    settings.ROOT_URLCONF = "tests.browser.urls"
    if request.param == "rgw":
        return _rgw_target(request, live_server)
    return _fake_target(settings, tmp_path)


@pytest.fixture
def rgw_target(request: pytest.FixtureRequest, settings: Any, live_server: Any) -> Target:
    """Only a real bucket: CORS and S3's own refusals."""
    settings.ROOT_URLCONF = "tests.browser.urls"
    return _rgw_target(request, live_server)


@pytest.fixture
def fake_target(settings: Any, live_server: Any, tmp_path: Path) -> Target:
    """Only the local fake (skipped when ``buckets.test`` is not there)."""
    if not HAS_FAKE:
        pytest.skip("buckets.test (the fake) is not installed")
    settings.ROOT_URLCONF = "tests.browser.urls"
    return _fake_target(settings, tmp_path)


@pytest.fixture
def login(live_server: Any, settings: Any) -> Callable[[Any, Any], None]:
    """Put a real session for ``user`` into the browser context (as logging in would)."""
    from django.test import Client

    def do_login(context: Any, user: Any) -> None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
        )

    return do_login


@pytest.fixture
def screenshot() -> Iterator[Callable[[Any, str], Path]]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(subject: Any, name: str, margin: int = 8) -> Path:
        """A page, or an element with a margin around it (so focus rings show)."""
        path = SCREENSHOTS / f"{name}.png"
        if hasattr(subject, "bounding_box"):
            box = subject.bounding_box()
            clip = {
                "x": max(box["x"] - margin, 0),
                "y": max(box["y"] - margin, 0),
                "width": box["width"] + 2 * margin,
                "height": box["height"] + 2 * margin,
            }
            subject.page.screenshot(path=str(path), clip=clip, animations="disabled")
        else:
            subject.screenshot(path=str(path), animations="disabled")
        return path

    yield take
