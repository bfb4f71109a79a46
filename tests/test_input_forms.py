"""The upload endpoints' input forms (``buckets.uploads.input_forms``) clean their inputs
without binding each field first. That loop must give what Django's own gives: these tests
run both on the same inputs and compare errors and cleaned values."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.core.validators import MaxLengthValidator
from django.http import QueryDict
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from buckets.uploads import field_token
from buckets.uploads.input_forms import InputField, InputForm
from buckets.uploads.upload_request import MultipartUploadForm, SignedUploadForm
from tests.hostile import HOSTILE_NAMES
from tests.testapp.models import Avatar

NAMES = ["field", "key", "content_type", "size", "other"]


def djangos(form_class: type[InputForm]) -> type[InputForm]:
    """``form_class`` cleaned by Django's own field loop."""
    return type(
        f"Djangos{form_class.__name__}",
        (form_class,),
        {
            "_clean_fields": forms.BaseForm._clean_fields,
        },
    )


def outcome(form: forms.Form) -> tuple[bool, Any, dict[str, Any]]:
    valid = form.is_valid()
    return valid, form.errors.get_json_data(), dict(form.cleaned_data)


def tokens() -> list[str]:
    return [field_token(Avatar._meta.get_field(name)) for name in ("image", "pdf")]


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(["", " ", "a.png", "photo.jpg", "image/png", "text/html", "0", "12"]),
    st.sampled_from(HOSTILE_NAMES),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.text(max_size=5), scalars, max_size=2),
)


@pytest.mark.parametrize("form_class", [SignedUploadForm, MultipartUploadForm])
@given(data=st.data())
@hsettings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_inputs_are_cleaned_as_djangos_loop_cleans_them(
    form_class: type[InputForm], data: st.DataObject
) -> None:
    token_values = st.one_of(values, st.sampled_from(tokens()), st.just(tokens()[0] + "x"))
    inputs = data.draw(
        st.fixed_dictionaries(
            {},
            optional={name: token_values if name == "field" else values for name in NAMES},
        )
    )
    assert outcome(form_class(inputs)) == outcome(djangos(form_class)(inputs))


@pytest.mark.parametrize("form_class", [SignedUploadForm, MultipartUploadForm])
@given(pairs=st.lists(st.tuples(st.sampled_from(NAMES), st.text(max_size=20)), max_size=8))
@hsettings(max_examples=200)
def test_a_form_body_is_read_as_djangos_loop_reads_it(
    form_class: type[InputForm], pairs: list[tuple[str, str]]
) -> None:
    # A QueryDict holds lists: an input field reads the last value, as TextInput does.
    body = QueryDict(mutable=True)
    for name, value in pairs:
        body.appendlist(name, value)
    assert outcome(form_class(body)) == outcome(djangos(form_class)(body))


class Prefixed(InputForm):
    word = InputField()
    number = forms.IntegerField(required=False)

    def __init__(self, data: Any) -> None:
        forms.Form.__init__(self, data, prefix="p")


def test_a_form_with_other_fields_or_a_prefix_is_cleaned_by_djangos_loop() -> None:
    form = Prefixed({"p-word": "w", "p-number": "x", "word": "ignored"})
    assert not form.is_valid()
    assert form.cleaned_data == {"word": "w"}
    assert list(form.errors) == ["number"]


def test_a_disabled_input_reads_its_initial_value_as_django_does() -> None:
    form = SignedUploadForm({"key": "sent.png"})
    form.fields = dict(form.fields)
    form.fields["key"] = type(form.fields["key"])(disabled=True, initial="first.png")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["key"] == "first.png"


class PrefixedInputs(InputForm):
    word = InputField()

    def __init__(self, data: Any) -> None:
        forms.Form.__init__(self, data, prefix="p")


def test_a_prefixed_input_is_read_under_its_prefixed_name() -> None:
    form = PrefixedInputs({"p-word": "w", "word": "ignored"})
    assert form.is_valid()
    assert form.cleaned_data == {"word": "w"}


class Checked(InputForm):
    word = InputField(validators=[MaxLengthValidator(3)])


def test_an_input_fields_validators_run() -> None:
    form = Checked({"word": "long"})
    assert not form.is_valid()
    assert form.errors.get_json_data()["word"][0]["code"] == "max_length"
    assert Checked({"word": "ok"}).is_valid()
