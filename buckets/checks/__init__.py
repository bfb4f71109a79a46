"""System checks (``manage.py check``), registered when the app is ready: the storages'
settings (``storages``) and the fake left on in production (``fake``)."""

from __future__ import annotations

from buckets.checks import fake, storages

__all__ = ["fake", "storages"]
