"""Kept so ``buckets.views.signed_url`` imports as before; the view lives in
:mod:`buckets.uploads.views`."""

from __future__ import annotations

from buckets.uploads.views import signed_url

__all__ = ["signed_url"]
