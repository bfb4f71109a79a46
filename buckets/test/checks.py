"""The fake-in-production system check, under the name it had: it lives in
:mod:`buckets.checks.fake`, so that registering it imports nothing of the fake."""

from __future__ import annotations

from buckets.checks.fake import W_MOUNTED, W_STORAGE, check_fake_s3_not_in_production

__all__ = ["W_MOUNTED", "W_STORAGE", "check_fake_s3_not_in_production"]
