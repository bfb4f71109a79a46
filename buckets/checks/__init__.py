"""System checks (``manage.py check``), registered when the app is ready: the storages'
settings (``storages``), the fake left on in production (``fake``) and the collectstatic
the static files storages need (``staticfiles``)."""

from __future__ import annotations

from buckets.checks import fake, staticfiles, storages

__all__ = ["fake", "staticfiles", "storages"]
