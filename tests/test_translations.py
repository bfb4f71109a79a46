"""The shipped catalogs (``buckets/locale``): complete, compiled, and used.

Every message the code marks for translation (Python and templates) is in the German and
French catalogs, translated, with the same placeholders; each compiled ``.mo`` says what its
``.po`` says (read with Python's own ``gettext``, so no ``msgfmt`` is needed here); and the
widget, an API answer, a form error, a system check and a command speak the language asked.
"""

from __future__ import annotations

import ast
import gettext as pygettext
import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django import forms
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import translation

from tests.test_fields import isolated_field
from tests.testapp.models import Avatar

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "buckets"
LOCALE = PACKAGE / "locale"
LANGUAGES = ["de", "fr"]

#: The functions whose literal arguments are messages (Django's gettext family).
GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy"}
TEMPLATE_MESSAGE = re.compile(r"""{%\s*(?:translate|trans)\s+(["'])(.*?)\1""")
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?([sdrif%])")


def parse_po(path: Path) -> dict[tuple[str, ...], list[str]]:
    """``{(msgid,) or (msgid, msgid_plural): [msgstr, ...]}`` of a ``.po`` file, header
    left out; ``fuzzy`` entries raise (they would not be compiled)."""
    entries: dict[tuple[str, ...], list[str]] = {}
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        assert "fuzzy" not in block, f"{path}: a fuzzy entry is not used:\n{block}"
        fields: dict[str, str] = {}
        current = ""
        for line in block.split("\n"):
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgid_plural|msgid|msgstr\[\d\]|msgstr) (".*")$', line)
            if match:
                current = match[1]
                fields[current] = ast.literal_eval(match[2])
            else:
                fields[current] += ast.literal_eval(line)
        if not fields.get("msgid"):
            continue  # the header
        key = (
            (fields["msgid"], fields["msgid_plural"])
            if "msgid_plural" in fields
            else (fields["msgid"],)
        )
        entries[key] = [fields[k] for k in sorted(fields) if k.startswith("msgstr")]
    return entries


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def messages_in_code() -> set[tuple[str, ...]]:
    """Every message marked for translation in the package: gettext calls with literal
    arguments in Python, ``{% translate %}`` in templates."""
    found: set[tuple[str, ...]] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in GETTEXT_NAMES or not node.args:
                continue
            texts = [_literal(arg) for arg in node.args[:2]]
            if name.startswith("ngettext"):
                if texts[0] is not None and len(texts) > 1 and texts[1] is not None:
                    found.add((texts[0], texts[1]))
            elif texts[0] is not None:
                found.add((texts[0],))
    for path in (PACKAGE / "templates").rglob("*.html"):
        for match in TEMPLATE_MESSAGE.finditer(path.read_text(encoding="utf-8")):
            found.add((match[2],))
    return found


def placeholders(text: str) -> set[tuple[str, str]]:
    return {m.groups(default="") for m in PLACEHOLDER.finditer(text)}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_with_its_placeholders(language: str) -> None:
    catalog = parse_po(LOCALE / language / "LC_MESSAGES" / "django.po")
    missing = messages_in_code() - set(catalog)
    assert not missing, f"not in the {language} catalog (run makemessages): {sorted(missing)}"
    for key, translations in catalog.items():
        for translation_ in translations:
            assert translation_, f"{language}: untranslated {key[0]!r}"
            # A plural form may drop the count ("one file"), never add or rename one.
            expected = placeholders(key[-1])
            assert placeholders(translation_) <= expected, (language, key[0], translation_)
            if len(translations) == 1:
                assert placeholders(translation_) == expected, (language, key[0], translation_)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_is_the_source(language: str) -> None:
    """The committed .mo is compiled from the .po as it is now (Python's gettext reads it)."""
    folder = LOCALE / language / "LC_MESSAGES"
    with (folder / "django.mo").open("rb") as mo:
        compiled = pygettext.GNUTranslations(mo)
    assert compiled.info()["language"] == language
    for key, translations in parse_po(folder / "django.po").items():
        if len(key) == 1:
            assert compiled.gettext(key[0]) == translations[0], key[0]
        else:
            assert compiled.ngettext(key[0], key[1], 1) == translations[0], key[0]
            assert compiled.ngettext(key[0], key[1], 5) == translations[1], key[0]


# -- the catalogs in use ---------------------------------------------------------------------


class AvatarForm(forms.ModelForm):
    class Meta:
        model = Avatar
        fields = ["image"]


def widget_messages(html: str) -> dict[str, Any]:
    match = re.search(r'data-messages="([^"]*)"', html)
    assert match
    return dict(json.loads(unescape(match[1])))


@pytest.mark.django_db
def test_the_widget_speaks_german(settings: Any, s3_default: Any) -> None:
    settings.LANGUAGE_CODE = "de"
    html = str(AvatarForm()["image"])
    assert "Datei auswählen" in html
    assert "oder hier ablegen" in html
    assert "Zulässig: Bilder, bis 1,0 MiB" in html
    # What the script says comes from the same catalog, units and all.
    messages = widget_messages(html)
    assert messages["cancelled"] == "Hochladen abgebrochen."
    assert messages["too_large"] == (
        "„%(name)s“ ist zu groß (%(size)s). Erlaubt sind höchstens %(limit)s."
    )
    assert messages["accepted"] == "Bilder"
    assert messages["sizes"][2] == "%s MiB"
    assert 'data-lang="de"' in html


@pytest.mark.django_db
def test_the_widget_speaks_french(settings: Any, s3_default: Any) -> None:
    settings.LANGUAGE_CODE = "fr"
    html = str(AvatarForm()["image"])
    assert "Choisir un fichier" in html
    assert "Acceptés\u00a0: images, jusqu’à 1,0 Mio" in html
    assert widget_messages(html)["sizes"] == ["%s o", "%s Kio", "%s Mio", "%s Gio", "%s Tio"]


@pytest.mark.django_db
def test_an_api_error_in_french_by_accept_language(settings: Any) -> None:
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[:1],
        "django.middleware.locale.LocaleMiddleware",
        *settings.MIDDLEWARE[1:],
    ]
    client = Client()
    client.force_login(User.objects.create_user("alice"))
    body = json.dumps({"key": "a.pdf", "field": _token("pdf"), "size": 5009})
    response = client.post(
        "/s3/signed-url/", body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert response.status_code == 400
    assert response.json() == {
        "size": ["Le fichier est trop volumineux (4,9 Kio)\u202f; la limite est de 2,0 Kio."]
    }
    english = client.post("/s3/signed-url/", body, content_type="application/json")
    assert english.json() == {"size": ["The file is too large (4.9 KiB); the limit is 2.0 KiB."]}


def _token(name: str) -> str:
    from buckets.uploads import field_token

    return field_token(Avatar._meta.get_field(name))


@pytest.mark.django_db
def test_a_form_error_in_german(s3_default: Any) -> None:
    with translation.override("de"):
        form = AvatarForm({"image": "someone-elses.png"})
        assert not form.is_valid()
        assert form.errors["image"] == [
            "Diese Datei wurde nicht für dieses Feld hochgeladen (oder nicht von Ihnen). "
            "Bitte laden Sie sie noch einmal hoch."
        ]


def test_a_system_check_in_french() -> None:
    field = isolated_field(upload_to="/absolute/")
    with translation.override("fr"):
        messages = [m.msg for m in field.check() if m.id == "buckets.E102"]
    assert messages == ["'upload_to' doit être un chemin relatif."]


def test_a_command_in_german(settings: Any) -> None:
    settings.CSRF_TRUSTED_ORIGINS = []
    with translation.override("de"), pytest.raises(CommandError) as caught:
        call_command("buckets_cors")
    assert str(caught.value).startswith("Geben Sie den Origin der Website an")
