"""``S3FileWidget``: a hidden input that carries the value, and a nameless file chooser.

The file input has no ``name``, so the browser never sends file bytes to Django: the
JavaScript (``buckets/js/upload.js``) asks the signed-URL view for a policy, uploads the file
straight to the bucket and writes the resulting storage name into the hidden input. A file
larger than ``BUCKETS_MULTIPART_THRESHOLD`` goes up in parts instead, through the multipart
endpoints (``data-multipart``: their URLs, the threshold and the multipart size limit).
Rendered from ``buckets/widgets/s3file.html`` (override it like any template); every
message the script shows comes from this module or the template, so it is translated with
the rest of the site. Exact byte counts ("1 byte", "5 bytes") are the one exception: the
browser spells them (``Intl.NumberFormat``) in the language the widget was rendered in,
with that language's plural rules, which a gettext catalog cannot hand to a script.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any

from django import forms
from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language, gettext

from buckets.fields.files import S3File
from buckets.signing.content_types import type_rules
from buckets.signing.limits import S3_MAX_POST_SIZE
from buckets.uploads.field_tokens import field_label, field_token
from buckets.uploads.multipart_threshold import multipart_threshold
from buckets.uploads.rules import upload_size_limit
from buckets.uploads.wording import describe_types, format_size, size_units


def _messages() -> dict[str, Any]:
    """Every string the script may show, in the active language.

    Placeholders are ``%(name)s`` (as in Django's own catalogs); the script fills them.
    """
    return {
        "uploading": gettext("Uploading %(name)s…"),
        "progress": gettext("%(percent)s%% uploaded"),
        "uploaded": gettext("%(name)s uploaded. Save the form to keep it."),
        "removed": gettext("“%(name)s” will be removed when the form is saved."),
        "restored": gettext("“%(name)s” is kept."),
        "cancelled": gettext("Upload cancelled."),
        "cancelled_kept": gettext("Upload cancelled. The current file is kept."),
        "busy": gettext(
            "The form cannot be sent yet: a file is still uploading. Wait for it to finish, "
            "or cancel it."
        ),
        "one_file": gettext("Please choose a single file."),
        "too_large": gettext("“%(name)s” is too large (%(size)s). The limit is %(limit)s."),
        "empty": gettext("“%(name)s” is empty. Please choose a file with content."),
        "wrong_type": gettext(
            "“%(name)s” is not an accepted type of file (%(type)s). Accepted: %(accepted)s."
        ),
        "unknown_type": gettext("unknown type"),
        "forbidden": gettext("You do not have permission to upload files here."),
        "csrf": gettext(
            "The page's security token is missing or has expired. Reload the page and try again."
        ),
        "refused": gettext("The upload was refused: %(reason)s"),
        "server_error": gettext(
            "The server could not prepare the upload (error %(status)s). Please try again."
        ),
        "server_unreachable": gettext(
            "The server could not be reached. Check your connection and try again."
        ),
        "s3_too_large": gettext("The storage refused the file: it is larger than allowed here."),
        "s3_too_small": gettext("The storage refused the file: it is empty or too small."),
        "s3_denied": gettext(
            "The storage refused the upload (access denied). The upload permission may have "
            "expired, or the file does not match what this field accepts."
        ),
        "s3_signature": gettext(
            "The storage rejected the upload's signature. The site's storage credentials "
            "may be misconfigured."
        ),
        "s3_expired": gettext("The upload permission expired before the file arrived."),
        "s3_no_bucket": gettext("The storage bucket for this site does not exist."),
        "s3_other": gettext("The storage refused the upload (%(code)s, HTTP %(status)s)."),
        "network": gettext(
            "The bucket refused the upload or could not be reached. Its CORS rule may not "
            "allow uploads from this site, or the connection was lost."
        ),
        "progress_detail": gettext("%(done)s of %(total)s"),
        "speed": gettext("%(speed)s/s"),
        "time_left": gettext("%(time)s left"),
        "waiting": gettext("waiting for the connection"),
        "offline": gettext(
            "The connection was lost. The upload goes on by itself when it is back."
        ),
        "retrying": gettext("The connection is unstable; retrying…"),
        "resuming": gettext("Resuming the earlier upload of %(name)s…"),
        "multipart_gone": gettext(
            "The storage no longer holds this upload (it was completed or cancelled). "
            "Please upload the file again."
        ),
        # Unit symbols (buckets.uploads.wording), so no message needs a plural form the
        # script could not choose. An exact count of bytes is spelled out by the browser
        # (Intl.NumberFormat, with the plural rules of the page's language); "%s B" is only
        # its fallback.
        "sizes": size_units(),
    }


class RemovedFile(str):
    """The bound value of a field whose file was removed in a submission that failed
    (another field's error): empty, as posted, but it remembers the file it had, so the
    widget still offers to undo the removal instead of losing the file from the form."""

    previous: str

    def __new__(cls, previous: str) -> RemovedFile:
        value = super().__new__(cls, "")
        value.previous = previous
        return value


class S3FileWidget(forms.Widget):
    template_name = "buckets/widgets/s3file.html"
    needs_multipart_form = False

    class Media:
        js = ("buckets/js/upload.js",)
        css = {"all": ("buckets/css/upload.css",)}

    def __init__(self, attrs: dict[str, Any] | None = None, model_field: Any = None) -> None:
        super().__init__(attrs)
        self.model_field = model_field

    def format_value(self, value: Any) -> str:
        if isinstance(value, S3File):
            return value.name or ""
        return "" if value is None else str(value)

    def id_for_label(self, id_: str) -> str:
        # The <label> belongs to the chooser a person operates, not the hidden input.
        return f"{id_}_file" if id_ else id_

    def use_required_attribute(self, initial: Any) -> bool:
        return False  # a hidden input can't be "required" in the browser's sense

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.get(name)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data

    def _limit(self, storage: Any) -> int | None:
        """The largest accepted upload (:func:`buckets.uploads.rules.upload_size_limit`);
        None without a storage that takes direct uploads."""
        if storage is None:
            return None
        try:
            return upload_size_limit(self.model_field, storage)
        except Exception:  # noqa: BLE001 -- a misconfigured storage must not break the page
            return None

    def _multipart(self, name: str, storage: Any) -> dict[str, Any] | None:
        """What the script needs to upload a large file in parts, or None when this widget
        uploads every file in one POST (no threshold set, a storage without multipart
        uploads, or ``buckets.urls`` not included)."""
        threshold = multipart_threshold()
        if threshold is None or storage is None:
            return None
        if not hasattr(storage, "create_multipart_upload"):
            return None
        try:
            urls = {
                step: reverse(f"s3_multipart_{route}")
                for step, route in (
                    ("create", "create"),
                    ("sign", "sign"),
                    ("parts", "parts"),
                    ("complete", "complete"),
                    ("abort", "abort"),
                )
            }
            limit = upload_size_limit(self.model_field, storage, multipart=True)
            field = self.model_field
            # Names the field in the browser's record of an unfinished upload.
            slot = field_label(field) if field is not None else name
        except Exception:  # noqa: BLE001 -- a misconfiguration must not break the page
            return None
        return {
            **urls,
            # A file larger than S3 takes in one POST can only go up in parts.
            "threshold": min(threshold, S3_MAX_POST_SIZE),
            "maxSize": limit,
            "slot": slot,
        }

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        current = widget["value"] or ""
        # A removed file stays in the (hidden) link, for the undo.
        previous = value.previous if isinstance(value, RemovedFile) and not current else ""
        shown = current or previous
        field = self.model_field
        storage = field.storage if field is not None else None
        file_url = ""
        key_prefix = ""
        if storage is not None:
            try:
                location = getattr(storage, "location", "") or ""
                key_prefix = f"{location.strip('/')}/" if location.strip("/") else ""
                if shown:
                    file_url = storage.url(shown)
            except Exception:  # noqa: BLE001 -- a bad stored value must not break the page
                file_url = ""
        try:
            signed_url = reverse("s3_signed_url")
        except NoReverseMatch:
            signed_url = ""
        accepted = [t for t in getattr(field, "accepted_types", None) or [] if t]
        multipart = self._multipart(name, storage)
        # The hint names the largest file the widget takes: in parts, when it uploads in parts.
        limit = multipart["maxSize"] if multipart else self._limit(storage)
        hint = ""
        if accepted and limit:
            hint = gettext("Accepted: %(types)s, up to %(size)s") % {
                "types": describe_types(accepted),
                "size": format_size(limit),
            }
        elif accepted:
            hint = gettext("Accepted: %(types)s") % {"types": describe_types(accepted)}
        elif limit:
            hint = gettext("Any type of file, up to %(size)s") % {"size": format_size(limit)}
        attrs = widget["attrs"]
        base_id = attrs.get("id", "") or f"s3file_{name}"
        # Help text and error state belong to the control a person operates.
        described_by = [f"{base_id}_s3hint", f"{base_id}_s3error"]
        for ref in str(attrs.pop("aria-describedby", "") or "").split():
            if ref not in described_by:
                described_by.append(ref)
        invalid = attrs.pop("aria-invalid", None)
        header = getattr(settings, "CSRF_HEADER_NAME", "HTTP_X_CSRFTOKEN")
        if header.startswith("HTTP_"):
            header = header[5:]
        messages = _messages()
        messages["accepted"] = describe_types(accepted)
        widget.update(
            {
                "filename": posixpath.basename(shown),
                "previous": previous,
                "removed_text": messages["removed"] % {"name": posixpath.basename(previous)}
                if previous
                else "",
                # A required field has no Remove: the save would only fail.
                "removable": not self.is_required,
                "file_url": file_url,
                "signed_url": signed_url,
                "token": field_token(field) if field is not None else "",
                "max_size": limit or "",
                "accept": ",".join(accepted),
                # The server's type rule, which the script applies to the chosen file's type.
                "type_rules_json": json.dumps(type_rules(accepted)),
                "key_prefix": key_prefix,
                "hint": hint,
                "file_id": self.id_for_label(attrs.get("id", "") or base_id),
                "base_id": base_id,
                "described_by": " ".join(described_by),
                "invalid": bool(invalid) and str(invalid) != "false",
                "csrf_cookie": getattr(settings, "CSRF_COOKIE_NAME", "csrftoken"),
                "csrf_header": header.replace("_", "-"),
                "messages_json": json.dumps(messages, ensure_ascii=False),
                "multipart_json": json.dumps(multipart),
                "language": get_language() or "",
            }
        )
        return context
