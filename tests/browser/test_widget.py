"""The upload widget in a real Chromium: a person's path from choosing a file to the saved row.

Every upload goes from the browser straight to the bucket (a real Ceph RGW with a CORS rule,
and the local fake when it is there); the tests look at what a person sees and then at the
saved row and the bucket's objects.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import CDPSession, FilePayload, Locator, Page, expect

from tests.testapp.models import Album, Avatar, Document, Photo

pytestmark = pytest.mark.browser

KiB = 1024
MiB = 1024 * KiB
XSS_NAME = "<img src=x onerror=alert(1)>.txt"


# -- helpers ---------------------------------------------------------------------------------


def widget(page: Page, name: str) -> Locator:
    """The widget whose hidden input is called ``name``."""
    return page.locator(f"[data-s3file]:has(> input[type='hidden'][name='{name}'])")


def hidden_value(w: Locator) -> str:
    return w.locator("> input[type='hidden']").input_value()


def throttle(page: Page, upload_bytes_per_second: int | None) -> CDPSession:
    """Slow the browser's uploads down so that a progress bar has something to show, until
    the returned session is detached (Chromium keeps one network emulation per DevTools
    session: Playwright's offline mode, set from its own session, takes effect once this one
    is gone)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": upload_bytes_per_second or -1,
        },
    )
    return cdp


def record_progress(page: Page) -> None:
    """Keep every value the <progress> element shows, in the page, for later assertions."""
    page.evaluate(
        """() => {
            window.__progress = [];
            document.addEventListener("s3file:progress", (event) => {
                window.__progress.push(event.target.querySelector("progress").value);
            });
        }"""
    )


def count_requests(page: Page, fragment: str) -> list[str]:
    seen: list[str] = []
    page.on(
        "request", lambda request: seen.append(request.url) if fragment in request.url else None
    )
    return seen


def no_dialogs(page: Page) -> list[str]:
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


def a_file(name: str, data: bytes, mime: str = "application/octet-stream") -> FilePayload:
    return {"name": name, "mimeType": mime, "buffer": data}


def save(page: Page) -> None:
    page.locator("#save, input[name='_save']").first.click()
    page.wait_for_url(re.compile(r"(saved=|/change/|/document/$|/avatar/$)"))


# -- a person's path -------------------------------------------------------------------------


def test_a_person_uploads_a_file_with_progress_and_saves_it(
    page: Page, live_server: Any, target: Any, admin_user: Any, screenshot: Any
) -> None:
    # Log in through the login page: the upload runs on a real session.
    page.goto(f"{live_server.url}/admin/login/?next=/documents/new/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("input[type='submit']")
    page.wait_for_url(re.compile(r"/documents/new/$"))

    w = widget(page, "file")
    expect(w).to_have_attribute("data-state", "empty")
    expect(page.get_by_label("File")).to_have_attribute("type", "file")  # label -> chooser
    screenshot(w, "widget-empty")
    screenshot(page, "page-empty")

    page.fill("#id_name", "Quarterly report")
    record_progress(page)
    throttle(page, 2 * MiB)
    data = os.urandom(5 * MiB)
    page.set_input_files("#id_file_file", files=[a_file("report 2026.bin", data)])

    expect(w).to_have_attribute("data-state", "uploading")
    expect(page.locator("#save")).to_be_disabled()
    page.wait_for_function("() => window.__progress.some((p) => p >= 30 && p < 90)")
    expect(w.locator(".s3file-progress-name")).to_have_text("report 2026.bin")
    screenshot(w, "widget-uploading")
    screenshot(page, "page-uploading")

    expect(w).to_have_attribute("data-state", "filled", timeout=30_000)
    throttle(page, None)
    values = page.evaluate("window.__progress")
    intermediate = sorted({v for v in values if 0 < v < 100})
    assert len(intermediate) >= 3, values
    assert values == sorted(values), "the bar never goes backwards"
    assert values[-1] == 100

    expect(w.locator(".s3file-link")).to_have_text("report 2026.bin")
    expect(w.locator(".s3file-link")).to_be_visible()
    expect(w.locator(".s3file-status")).to_contain_text("uploaded")
    staged = hidden_value(w)
    assert staged.startswith("uploads/") and staged.endswith("/report_2026.bin")
    assert staged in target.keys()
    expect(page.locator("#save")).to_be_enabled()
    screenshot(w, "widget-done")
    screenshot(page, "page-done")

    save(page)
    expect(page.locator("#saved")).to_be_visible()
    document = Document.objects.get()
    assert document.name == "Quarterly report"
    assert document.file.name == "report_2026.bin"
    assert target.read(document.file.name) == data
    assert target.keys() == ["report_2026.bin"]  # the staged copy is gone after the commit
    # The saved page shows the stored file with its own (storage) link.
    expect(w.locator(".s3file-link")).to_have_text("report_2026.bin")
    assert "report_2026.bin" in (w.locator(".s3file-link").get_attribute("href") or "")


def test_anonymous_upload_when_the_site_allows_it(
    page: Page, live_server: Any, target: Any, settings: Any
) -> None:
    settings.BUCKETS_UPLOAD_PERMISSION = None
    page.goto(f"{live_server.url}/documents/new/")
    page.fill("#id_name", "Anonymous")
    page.set_input_files("#id_file_file", files=[a_file("hello.txt", b"hello", "text/plain")])
    w = widget(page, "file")
    expect(w).to_have_attribute("data-state", "filled")
    save(page)
    document = Document.objects.get()
    assert document.file.name == "hello.txt"
    assert target.read("hello.txt") == b"hello"


def test_anonymous_upload_refused_by_the_permission_says_so(
    page: Page, live_server: Any, target: Any
) -> None:
    page.goto(f"{live_server.url}/documents/new/")
    page.set_input_files("#id_file_file", files=[a_file("hello.txt", b"hello", "text/plain")])
    w = widget(page, "file")
    expect(w.locator(".s3file-error")).to_have_text("You do not have permission to upload files.")
    expect(w).to_have_attribute("data-state", "empty")
    assert hidden_value(w) == ""
    assert target.keys() == []


# -- refusals --------------------------------------------------------------------------------


def _logged_in_avatar_page(page: Page, live_server: Any, login: Any, user: Any) -> None:
    login(page.context, user)
    page.goto(f"{live_server.url}/avatars/new/")


def test_a_file_over_max_size_is_refused_in_words_and_nothing_is_stored(
    page: Page, live_server: Any, target: Any, admin_user: Any, login: Any, screenshot: Any
) -> None:
    _logged_in_avatar_page(page, live_server, login, admin_user)
    signing = count_requests(page, "/s3/signed-url/")
    w = widget(page, "image")
    big = b"\x89PNG\r\n\x1a\n" + bytes(MiB)
    page.set_input_files("#id_image_file", files=[a_file("holiday.png", big, "image/png")])
    error = w.locator(".s3file-error")
    # Both round to "1.0 MiB", so the message counts bytes.
    expect(error).to_have_text(
        "“holiday.png” is too large (1,048,584 bytes). The limit is 1,048,576 bytes."
    )
    expect(w).to_have_attribute("data-state", "empty")
    expect(w.locator(".s3file-retry")).to_be_hidden()
    assert hidden_value(w) == ""
    screenshot(w, "widget-error-too-large")
    screenshot(page, "page-error")
    assert signing == []  # the fast check: nothing was even signed

    save(page)
    assert not Avatar.objects.get().image
    assert target.keys() == []


def test_exact_sizes_are_said_in_the_right_number(
    page: Page, live_server: Any, rgw_target: Any, admin_user: Any, login: Any
) -> None:
    """ "1 byte", never "1 bytes": the script had only the plural form of one message."""
    _logged_in_avatar_page(page, live_server, login, admin_user)
    w = widget(page, "pdf")
    w.evaluate("(root) => root.setAttribute('data-max-size', '1')")
    page.set_input_files("#id_pdf_file", files=[a_file("two.pdf", b"%P", "application/pdf")])
    expect(w.locator(".s3file-error")).to_have_text(
        "“two.pdf” is too large (2 bytes). The limit is 1 byte."
    )


def test_sizes_follow_the_plural_rules_of_the_page_language(
    page: Page, live_server: Any, rgw_target: Any, admin_user: Any, login: Any, settings: Any
) -> None:
    """Polish has three plural forms ("1 bajt", "2 bajty", "5 bajtów"): a singular and a
    plural message could never say all of them. The widget's language wins over <html lang>.
    """
    settings.LANGUAGE_CODE = "pl"
    _logged_in_avatar_page(page, live_server, login, admin_user)
    w = widget(page, "pdf")
    expect(w).to_have_attribute("data-lang", "pl")
    w.evaluate("(root) => root.setAttribute('data-max-size', '2')")
    page.set_input_files("#id_pdf_file", files=[a_file("five.pdf", b"%PDF-", "application/pdf")])
    error = w.locator(".s3file-error")
    expect(error).to_contain_text("(5 bajtów)")
    expect(error).to_contain_text("2 bajty")
    w.evaluate("(root) => root.setAttribute('data-max-size', '1')")
    page.set_input_files("#id_pdf_file", files=[a_file("two.pdf", b"%P", "application/pdf")])
    expect(error).to_contain_text("(2 bajty)")
    expect(error).to_contain_text("1 bajt.")
    # Above a kilobyte, sizes are unit symbols (no plural) with the language's decimal comma.
    w.evaluate("(root) => root.setAttribute('data-max-size', '1024')")
    page.set_input_files(
        "#id_pdf_file", files=[a_file("big.pdf", b"%PDF-" + bytes(2000), "application/pdf")]
    )
    expect(error).to_contain_text("(2,0 KiB)")
    expect(error).to_contain_text("1,0 KiB")


def test_the_widget_speaks_the_language_of_the_page(
    page: Page,
    live_server: Any,
    rgw_target: Any,
    admin_user: Any,
    login: Any,
    settings: Any,
    screenshot: Any,
) -> None:
    """The shipped German catalog, in the template and in what the script says."""
    settings.LANGUAGE_CODE = "de"
    _logged_in_avatar_page(page, live_server, login, admin_user)
    w = widget(page, "image")
    expect(w.locator(".s3file-hint")).to_have_text("Zulässig: Bilder, bis 1,0 MiB")
    expect(w.locator(".s3file-choose")).to_have_text("Datei auswählen")
    big = b"\x89PNG\r\n\x1a\n" + bytes(2 * MiB)
    page.set_input_files("#id_image_file", files=[a_file("urlaub.png", big, "image/png")])
    expect(w.locator(".s3file-error")).to_have_text(
        "„urlaub.png“ ist zu groß (2,0 MiB). Erlaubt sind höchstens 1,0 MiB."
    )
    screenshot(w, "widget-error-de")


def test_a_file_of_the_wrong_type_is_refused_in_words_and_nothing_is_stored(
    page: Page, live_server: Any, target: Any, admin_user: Any, login: Any, screenshot: Any
) -> None:
    _logged_in_avatar_page(page, live_server, login, admin_user)
    w = widget(page, "image")
    page.set_input_files("#id_image_file", files=[a_file("notes.txt", b"notes", "text/plain")])
    error = w.locator(".s3file-error")
    expect(error).to_contain_text("“notes.txt” is not an accepted type of file (text/plain)")
    expect(error).to_contain_text("Accepted: images")
    assert hidden_value(w) == ""
    screenshot(w, "widget-error-type")
    save(page)
    assert not Avatar.objects.get().image
    assert target.keys() == []


def test_a_refusal_from_the_signing_view_is_shown_with_its_reason(
    page: Page, live_server: Any, target: Any, admin_user: Any, login: Any
) -> None:
    """With the client's checks out of the way (a tampered page), the server still says no."""
    _logged_in_avatar_page(page, live_server, login, admin_user)
    w = widget(page, "pdf")
    w.evaluate("(root) => root.removeAttribute('data-max-size')")
    data = b"%PDF-1.4\n" + bytes(5000)
    page.set_input_files("#id_pdf_file", files=[a_file("big.pdf", data, "application/pdf")])
    expect(w.locator(".s3file-error")).to_contain_text(
        "The upload was refused: The file is too large (4.9 KiB); the limit is 2.0 KiB."
    )
    assert hidden_value(w) == ""
    assert target.keys() == []


def test_the_bucket_policy_is_the_real_guard(
    page: Page, live_server: Any, target: Any, admin_user: Any, login: Any, screenshot: Any
) -> None:
    """A client lying about the size gets a policy, and the bucket itself refuses the file."""
    _logged_in_avatar_page(page, live_server, login, admin_user)
    w = widget(page, "pdf")
    w.evaluate("(root) => root.removeAttribute('data-max-size')")

    def lie_about_size(route: Any) -> None:
        body = json.loads(route.request.post_data)
        body["size"] = 100
        route.continue_(post_data=json.dumps(body))

    page.route("**/s3/signed-url/", lie_about_size)
    data = b"%PDF-1.4\n" + bytes(5000)
    page.set_input_files("#id_pdf_file", files=[a_file("big.pdf", data, "application/pdf")])
    expect(w.locator(".s3file-error")).to_have_text(
        "The storage refused the file: it is larger than allowed here."
    )
    expect(w).to_have_attribute("data-state", "empty")
    assert hidden_value(w) == ""
    screenshot(w, "widget-error-storage")
    assert target.keys() == []


def test_a_bucket_without_the_cors_rule_is_a_readable_error_and_retry_works(
    page: Page, live_server: Any, rgw_target: Any, admin_user: Any, login: Any, screenshot: Any
) -> None:
    rgw_target.remove_cors()
    login(page.context, admin_user)
    page.goto(f"{live_server.url}/documents/new/")
    page.fill("#id_name", "CORS")
    w = widget(page, "file")
    page.set_input_files("#id_file_file", files=[a_file("cors.txt", b"cors", "text/plain")])
    error = w.locator(".s3file-error")
    expect(error).to_contain_text("The bucket refused the upload")
    expect(error).to_contain_text("CORS")
    expect(w).to_have_attribute("data-state", "empty")
    expect(page.locator("#save")).to_be_enabled()
    assert hidden_value(w) == ""
    assert rgw_target.keys() == []
    screenshot(w, "widget-error-cors")

    # The site's admin applies the rule; the person tries again, without choosing again.
    from django.core.management import call_command

    call_command("buckets_cors", "--origin", live_server.url, stdout=open(os.devnull, "w"))
    w.locator(".s3file-retry").click()
    expect(w).to_have_attribute("data-state", "filled")
    expect(error).to_be_empty()
    save(page)
    assert Document.objects.get().file.name == "cors.txt"


def test_a_dropped_file_uploads(
    page: Page, live_server: Any, target: Any, admin_user: Any, login: Any
) -> None:
    login(page.context, admin_user)
    page.goto(f"{live_server.url}/documents/new/")
    page.fill("#id_name", "Dropped")
    w = widget(page, "file")
    w.evaluate(
        """(root) => {
            const data = new DataTransfer();
            data.items.add(new File(["dropped bytes"], "dropped.txt", { type: "text/plain" }));
            const zone = root.querySelector(".s3file-drop");
            const init = { dataTransfer: data, bubbles: true, cancelable: true };
            zone.dispatchEvent(new DragEvent("dragover", init));
            root.dataset.dragClass = root.classList.contains("s3file--dragover");
            zone.dispatchEvent(new DragEvent("drop", init));
        }"""
    )
    expect(w).to_have_attribute("data-drag-class", "true")  # the drop zone lights up
    expect(w).to_have_attribute("data-state", "filled")
    expect(w).not_to_have_class(re.compile("s3file--dragover"))
    save(page)
    assert target.read(Document.objects.get().file.name) == b"dropped bytes"


def test_a_form_error_elsewhere_keeps_the_uploaded_file(
    page: Page, live_server: Any, target: Any, admin_user: Any, login: Any
) -> None:
    login(page.context, admin_user)
    page.goto(f"{live_server.url}/documents/new/")
    w = widget(page, "file")
    page.set_input_files("#id_file_file", files=[a_file("kept.txt", b"kept", "text/plain")])
    expect(w).to_have_attribute("data-state", "filled")
    page.click("#save")  # the name is missing: the form comes back with an error
    expect(page.locator(".errorlist")).to_contain_text("This field is required.")
    expect(w).to_have_attribute("data-state", "filled")
    expect(w.locator(".s3file-link")).to_have_text("kept.txt")
    page.fill("#id_name", "Second try")
    save(page)
    document = Document.objects.get()
    assert document.file.name == "kept.txt"
    assert target.read("kept.txt") == b"kept"


# -- cancel, remove, replace -----------------------------------------------------------------


def _document_with_file(target: Any, name: str, data: bytes) -> Document:
    # Marked as the field's own, as a file saved through it is: only such are orphans.
    mark = Document._meta.get_field("file").written_mark  # type: ignore[attr-defined]
    stored = target.storage.save(name, ContentFile(data), metadata=mark)
    return Document.objects.create(name="Existing", file=stored)


def test_cancel_during_an_upload_keeps_the_previous_file(
    page: Page, live_server: Any, target: Any, admin_user: Any, login: Any, screenshot: Any
) -> None:
    document = _document_with_file(target, "old.txt", b"old bytes")
    login(page.context, admin_user)
    page.goto(f"{live_server.url}/documents/{document.pk}/")
    w = widget(page, "file")
    expect(w).to_have_attribute("data-state", "filled")
    expect(w.locator(".s3file-link")).to_have_text("old.txt")

    record_progress(page)
    throttle(page, 256 * KiB)
    with page.expect_file_chooser() as chooser:
        w.get_by_role("button", name="Replace").click()
    chooser.value.set_files([a_file("huge.bin", os.urandom(5 * MiB))])
    page.wait_for_function("() => window.__progress.some((p) => p > 0)")

    # While it uploads, the form cannot be sent: not by the button, not by Enter, not by script.
    expect(page.locator("#save")).to_be_disabled()
    busy = (
        "The form cannot be sent yet: a file is still uploading. Wait for it to finish, "
        "or cancel it."
    )
    # Enter does nothing while the submit button is disabled: the widget says why.
    page.locator("#id_name").press("Enter")
    expect(w.locator(".s3file-error")).to_have_text(busy)
    expect(w.locator(".s3file-error")).to_be_visible()
    screenshot(w, "widget-busy-enter")
    page.evaluate("() => document.getElementById('the-form').requestSubmit()")
    expect(w.locator(".s3file-error")).to_have_text(busy)
    assert "saved" not in page.url
    expect(w).to_have_attribute("data-state", "uploading")

    w.get_by_role("button", name="Cancel").click()
    expect(w).to_have_attribute("data-state", "filled")
    expect(w.locator(".s3file-link")).to_have_text("old.txt")
    expect(w.locator(".s3file-status")).to_have_text("Upload cancelled. The current file is kept.")
    assert hidden_value(w) == "old.txt"
    expect(page.locator("#save")).to_be_enabled()
    throttle(page, None)

    save(page)
    document.refresh_from_db()
    assert document.file.name == "old.txt"
    assert target.read("old.txt") == b"old bytes"
    assert target.keys() == ["old.txt"]  # the cut-off upload left nothing behind


def test_remove_clears_the_field_on_save(
    page: Page, live_server: Any, target: Any, admin_user: Any, login: Any
) -> None:
    mark = Avatar._meta.get_field("image").written_mark  # type: ignore[attr-defined]
    stored = target.storage.save("avatars/face.png", ContentFile(b"\x89PNG face"), metadata=mark)
    avatar = Avatar.objects.create(image=stored)
    login(page.context, admin_user)
    page.goto(f"{live_server.url}/avatars/{avatar.pk}/")
    w = widget(page, "image")
    expect(w.locator(".s3file-link")).to_have_text("face.png")
    w.get_by_role("button", name="Remove").click()
    expect(w).to_have_attribute("data-state", "empty")
    expect(w.locator(".s3file-status")).to_have_text(
        "“face.png” will be removed when the form is saved."
    )
    assert hidden_value(w) == ""
    assert target.keys() == ["avatars/face.png"]  # nothing is deleted before the save
    save(page)
    avatar.refresh_from_db()
    assert not avatar.image
    assert target.keys() == []  # the orphan went after the commit


def test_a_removal_can_be_undone_before_the_save(
    page: Page, live_server: Any, target: Any, admin_user: Any, login: Any, screenshot: Any
) -> None:
    mark = Avatar._meta.get_field("image").written_mark  # type: ignore[attr-defined]
    stored = target.storage.save("avatars/face.png", ContentFile(b"\x89PNG face"), metadata=mark)
    avatar = Avatar.objects.create(image=stored)
    login(page.context, admin_user)
    page.goto(f"{live_server.url}/avatars/{avatar.pk}/")
    w = widget(page, "image")
    # By keyboard: Remove, then Undo, each the next stop after the other's result.
    w.get_by_role("button", name="Replace").focus()
    page.keyboard.press("Tab")
    expect(w.get_by_role("button", name="Remove")).to_be_focused()
    page.keyboard.press("Enter")
    expect(w).to_have_attribute("data-state", "empty")
    expect(w.locator(".s3file-removed")).to_contain_text(
        "“face.png” will be removed when the form is saved."
    )
    expect(page.locator("#id_image_file")).to_be_focused()
    screenshot(w, "widget-removed-undo")
    page.keyboard.press("Tab")
    expect(w.get_by_role("button", name="Undo")).to_be_focused()
    page.keyboard.press("Enter")
    expect(w).to_have_attribute("data-state", "filled")
    expect(w.get_by_role("button", name="Replace")).to_be_focused()
    expect(w.locator(".s3file-link")).to_have_text("face.png")
    expect(w.locator(".s3file-removed")).to_be_hidden()
    expect(w.locator(".s3file-status")).to_have_text("“face.png” is kept.")
    assert hidden_value(w) == "avatars/face.png"


def test_a_removal_survives_a_failed_save_and_can_still_be_undone(
    page: Page, live_server: Any, target: Any, admin_user: Any, login: Any, screenshot: Any
) -> None:
    """Another field's error sends the form back: the removed file is still offered, not
    lost from the form (before, the page came back with an empty field)."""
    mark = Avatar._meta.get_field("image").written_mark  # type: ignore[attr-defined]
    stored = target.storage.save("avatars/face.png", ContentFile(b"\x89PNG face"), metadata=mark)
    avatar = Avatar.objects.create(image=stored)
    login(page.context, admin_user)
    page.goto(f"{live_server.url}/avatars/{avatar.pk}/")
    image = widget(page, "image")
    image.get_by_role("button", name="Remove").click()
    # A value no upload made: the pdf field refuses it, so the save fails.
    widget(page, "pdf").evaluate(
        "(root) => { root.querySelector('input[type=hidden]').value = 'elsewhere.pdf'; }"
    )
    page.locator("#save").click()
    page.wait_for_load_state()
    image = widget(page, "image")
    expect(image).to_have_attribute("data-state", "empty")
    expect(image.locator(".s3file-removed")).to_contain_text(
        "“face.png” will be removed when the form is saved."
    )
    screenshot(page, "page-removed-after-failed-save")
    image.get_by_role("button", name="Undo").click()
    expect(image).to_have_attribute("data-state", "filled")
    expect(image.locator(".s3file-link")).to_have_text("face.png")
    assert hidden_value(image) == "avatars/face.png"
    widget(page, "pdf").evaluate(
        "(root) => { root.querySelector('input[type=hidden]').value = ''; }"
    )
    save(page)
    avatar.refresh_from_db()
    assert avatar.image.name == "avatars/face.png"
    assert target.keys() == ["avatars/face.png"]


def test_a_required_field_offers_no_remove(
    page: Page, live_server: Any, target: Any, admin_user: Any, login: Any
) -> None:
    document = _document_with_file(target, "old.txt", b"old bytes")  # Document.file: required
    login(page.context, admin_user)
    page.goto(f"{live_server.url}/documents/{document.pk}/")
    w = widget(page, "file")
    expect(w.get_by_role("button", name="Replace")).to_be_visible()
    expect(w.locator(".s3file-remove")).to_have_count(0)


def test_replace_an_existing_file(
    page: Page, live_server: Any, target: Any, admin_user: Any, login: Any
) -> None:
    document = _document_with_file(target, "old.txt", b"old bytes")
    login(page.context, admin_user)
    page.goto(f"{live_server.url}/documents/{document.pk}/")
    w = widget(page, "file")
    with page.expect_file_chooser() as chooser:
        w.get_by_role("button", name="Replace").click()
    chooser.value.set_files([a_file("new.txt", b"new bytes", "text/plain")])
    expect(w).to_have_attribute("data-state", "filled")
    expect(w.locator(".s3file-link")).to_have_text("new.txt")
    assert hidden_value(w).endswith("/new.txt")
    save(page)
    document.refresh_from_db()
    assert document.file.name == "new.txt"
    assert target.read("new.txt") == b"new bytes"
    assert target.keys() == ["new.txt"]  # the replaced object is deleted after the commit


# -- several widgets, forms added later, the admin ---------------------------------------------


def test_two_widgets_on_a_page_are_independent(
    page: Page, live_server: Any, target: Any, admin_user: Any, login: Any
) -> None:
    _logged_in_avatar_page(page, live_server, login, admin_user)
    image, pdf = widget(page, "image"), widget(page, "pdf")
    page.set_input_files("#id_image_file", files=[a_file("notes.txt", b"x", "text/plain")])
    page.set_input_files(
        "#id_pdf_file", files=[a_file("cv.pdf", b"%PDF-1.4 cv", "application/pdf")]
    )
    expect(pdf).to_have_attribute("data-state", "filled")
    expect(image.locator(".s3file-error")).not_to_be_empty()
    expect(pdf.locator(".s3file-error")).to_be_empty()
    save(page)
    avatar = Avatar.objects.get()
    assert not avatar.image
    assert avatar.pdf.name == "pdfs/cv.pdf"
    assert target.read("pdfs/cv.pdf") == b"%PDF-1.4 cv"


def test_forms_added_later_upload_too(
    page: Page, live_server: Any, target: Any, admin_user: Any, login: Any
) -> None:
    login(page.context, admin_user)
    page.goto(f"{live_server.url}/batch/")
    template = page.locator("#empty-row [data-s3file]")
    page.click("#add-another")
    page.click("#add-another")
    # The "__prefix__" template row is never brought to life; its clones are.
    expect(page.locator("#rows .s3file--ready")).to_have_count(2)
    expect(template).not_to_have_class(re.compile("s3file--ready"))
    page.fill("#id_form-0-name", "First")
    page.fill("#id_form-1-name", "Second")
    throttle(page, 1 * MiB)
    first, second = os.urandom(1 * MiB), os.urandom(1 * MiB)
    page.set_input_files("#id_form-0-file_file", files=[a_file("first.bin", first)])
    page.set_input_files("#id_form-1-file_file", files=[a_file("second.bin", second)])
    expect(widget(page, "form-0-file")).to_have_attribute("data-state", "filled")
    expect(widget(page, "form-1-file")).to_have_attribute("data-state", "filled")
    throttle(page, None)
    save(page)
    saved = {d.name: d.file.name for d in Document.objects.all()}
    assert saved == {"First": "first.bin", "Second": "second.bin"}
    assert target.read("first.bin") == first
    assert target.read("second.bin") == second


def _admin_login(page: Page, live_server: Any, next_url: str) -> None:
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("input[type='submit']")
    page.wait_for_url(re.compile(re.escape(next_url) + "$"))


def test_the_admin_change_form(
    page: Page, live_server: Any, target: Any, admin_user: Any, screenshot: Any
) -> None:
    _admin_login(page, live_server, "/admin/testapp/document/add/")
    w = widget(page, "file")
    expect(w).to_have_class(re.compile("s3file--ready"))
    screenshot(page.locator("#content"), "admin-empty")
    page.fill("#id_name", "From the admin")
    page.set_input_files("#id_file_file", files=[a_file("minutes.pdf", b"%PDF minutes")])
    expect(w).to_have_attribute("data-state", "filled")
    screenshot(page.locator("#content"), "admin-done")
    page.emulate_media(color_scheme="dark")  # the admin's dark theme: the widget follows it
    screenshot(page.locator("#content"), "admin-done-dark")
    page.emulate_media(color_scheme="light")
    page.locator("input[name='_continue']").click()
    page.wait_for_url(re.compile(r"/change/$"))
    document = Document.objects.get()
    assert document.file.name == "minutes.pdf"
    assert target.read("minutes.pdf") == b"%PDF minutes"

    # The change form shows the stored file; replacing it there works as well.
    w = widget(page, "file")
    expect(w.locator(".s3file-link")).to_have_text("minutes.pdf")
    with page.expect_file_chooser() as chooser:
        w.get_by_role("button", name="Replace").click()
    chooser.value.set_files([a_file("minutes-v2.pdf", b"%PDF v2")])
    expect(w.locator(".s3file-link")).to_have_text("minutes-v2.pdf")
    expect(w).to_have_attribute("data-state", "filled")
    screenshot(page.locator("#content"), "admin-replaced")
    page.locator("input[name='_continue']").click()
    page.wait_for_url(re.compile(r"/change/$"))
    document.refresh_from_db()
    assert document.file.name == "minutes-v2.pdf"
    assert target.keys() == ["minutes-v2.pdf"]


def test_an_admin_inline_added_with_add_another_uploads(
    page: Page, live_server: Any, target: Any, admin_user: Any, screenshot: Any
) -> None:
    album_model, photo_model = Album, Photo
    opts = album_model._meta
    _admin_login(page, live_server, f"/admin/{opts.app_label}/{opts.model_name}/add/")
    page.fill("#id_title", "Holidays")
    prefix = photo_model._meta.get_field("album").remote_field.get_accessor_name()
    page.locator(".add-row a").click()
    page.locator(".add-row a").click()
    rows = page.locator(f"tr.dynamic-{prefix} [data-s3file]")
    expect(rows).to_have_count(2)
    expect(page.locator(f"#{prefix}-empty [data-s3file]")).not_to_have_class(
        re.compile("s3file--ready")
    )
    png = b"\x89PNG\r\n\x1a\n" + os.urandom(2000)
    page.set_input_files(
        f"#id_{prefix}-1-image_file", files=[a_file("beach.png", png, "image/png")]
    )
    second = widget(page, f"{prefix}-1-image")
    expect(second).to_have_attribute("data-state", "filled")
    screenshot(page.locator("#content"), "admin-inline")
    page.locator("input[name='_save']").click()
    page.wait_for_url(re.compile(r"/album/$"))
    photos = list(photo_model.objects.all())
    assert [p.image.name for p in photos if p.image] == ["photos/beach.png"]
    assert target.read("photos/beach.png") == png


# -- safety and accessibility ----------------------------------------------------------------


def test_the_local_preview_never_opens_script_capable_files_in_place(
    page: Page, live_server: Any, target: Any, admin_user: Any, login: Any
) -> None:
    """The preview link is a blob: URL of the site's own origin: an HTML or SVG file opened
    there would run with the person's session. Those are offered as downloads instead."""
    login(page.context, admin_user)
    page.goto(f"{live_server.url}/documents/new/")
    w = widget(page, "file")
    link = w.locator(".s3file-link")
    html = b"<script>document.title = 'PWNED'</script>"
    page.set_input_files("#id_file_file", files=[a_file("page.html", html, "text/html")])
    expect(w).to_have_attribute("data-state", "filled")
    assert link.get_attribute("download") == "page.html"
    blob_type = page.evaluate(
        "async (href) => (await (await fetch(href)).blob()).type", link.get_attribute("href")
    )
    assert blob_type == "application/octet-stream"

    with page.expect_file_chooser() as chooser:
        w.get_by_role("button", name="Replace").click()
    chooser.value.set_files([a_file("notes.txt", b"plain words", "text/plain")])
    expect(link).to_have_text("notes.txt")
    assert link.get_attribute("download") is None  # inert types open in place
    assert (link.get_attribute("href") or "").startswith("blob:")


def test_a_hostile_file_name_is_shown_as_text(
    page: Page, live_server: Any, target: Any, admin_user: Any, login: Any, screenshot: Any
) -> None:
    dialogs = no_dialogs(page)
    login(page.context, admin_user)
    page.goto(f"{live_server.url}/avatars/new/")
    image = widget(page, "image")
    page.set_input_files("#id_image_file", files=[a_file(XSS_NAME, b"<b>", "text/plain")])
    expect(image.locator(".s3file-error")).to_contain_text(f"“{XSS_NAME}” is not an accepted")

    page.goto(f"{live_server.url}/documents/new/")
    w = widget(page, "file")
    page.fill("#id_name", "XSS")
    page.set_input_files("#id_file_file", files=[a_file(XSS_NAME, b"<b>", "text/plain")])
    expect(w).to_have_attribute("data-state", "filled")
    expect(w.locator(".s3file-link")).to_have_text(XSS_NAME)
    expect(w.locator(".s3file-status")).to_contain_text(XSS_NAME)
    expect(page.locator("img")).to_have_count(0)
    screenshot(w, "widget-hostile-name")
    save(page)
    document = Document.objects.get()
    assert document.file.name == "img_srcx_onerroralert1.txt"
    expect(w.locator(".s3file-link")).to_have_text("img_srcx_onerroralert1.txt")
    assert dialogs == []


def test_keyboard_only(
    page: Page, live_server: Any, target: Any, admin_user: Any, login: Any, screenshot: Any
) -> None:
    login(page.context, admin_user)
    page.goto(f"{live_server.url}/documents/new/")
    w = widget(page, "file")
    page.locator("#id_name").fill("Keyboard")
    page.keyboard.press("Tab")
    chooser_input = page.locator("#id_file_file")
    expect(chooser_input).to_be_focused()
    expect(chooser_input).to_have_accessible_name(re.compile(r"^File:"))
    expect(chooser_input).to_have_accessible_description("Any type of file, up to 5.0 TiB")
    outline = w.locator(".s3file-drop").evaluate("(el) => getComputedStyle(el).outlineStyle")
    assert outline == "solid"  # the focus is visible on the drop zone
    screenshot(w, "widget-focus")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files([a_file("typed.txt", b"typed", "text/plain")])
    expect(w).to_have_attribute("data-state", "filled")
    replace = w.get_by_role("button", name="Replace")
    expect(replace).to_be_focused()  # focus stays in the widget, on the next thing to do
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    chooser.value.set_files([a_file("again.txt", b"again", "text/plain")])
    expect(w.locator(".s3file-link")).to_have_text("again.txt")
    expect(replace).to_be_focused()
    page.keyboard.press("Tab")  # a required field has no Remove: out of the widget
    expect(page.locator("#save")).to_be_focused()
    # Announced: progress and results in a polite live region, errors in an alert.
    expect(w.locator(".s3file-status")).to_have_attribute("aria-live", "polite")
    expect(w.locator(".s3file-error")).to_have_attribute("role", "alert")
