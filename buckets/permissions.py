"""Kept so ``BUCKETS_UPLOAD_PERMISSION = "buckets.permissions.authenticated"`` (or
``allow_any``) works as documented; the hook lives in :mod:`buckets.uploads.permissions`."""

from __future__ import annotations

from buckets.uploads.permissions import allow_any, authenticated

__all__ = ["allow_any", "authenticated"]
