"""Django forms for an endpoint's inputs: read and checked as any form, never rendered.

An upload endpoint builds one such form per request and validates it once, so two things a
rendered form needs and these do not are left out, through Django's own hooks and one of
its private methods, ``_clean_fields`` (its loop, kept equal to Django's by a test):

* Django deep-copies a form's fields for every form, so that one form may change its own.
  :class:`InputField` keeps no state and no form changes one: an :class:`InputForm` whose
  fields are all input fields shares them (each form still gets its own ``fields`` dict).
* A bound field (``form["name"]``, and each field while the form is cleaned) works out its
  label, help text and HTML names when it is made, and reads its value through its
  widget. An input's (:class:`InputValue`) works out the name its value is read under,
  reads it as the default widget does, and works out the rest only if something asks.
  Cleaning reads each input's value the same way without binding the field at all.

Everything else is Django's: ``is_valid()``, ``clean_<name>()``, ``clean()``,
``add_error()`` and ``errors`` behave as for any form.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundField
from django.forms.forms import DeclarativeFieldsMetaclass

__all__ = ["InputField", "InputForm", "InputValue"]


class InputValue(BoundField):
    """A bound input field that sets up only what reading its value needs (the form, the
    field, its names); the presentation attributes (``label``, ``help_text``, the initial
    value's names...) are set up by ``BoundField`` itself the first time one is asked for."""

    def __init__(self, form: forms.BaseForm, field: forms.Field, name: str) -> None:
        self.form = form
        self.field = field
        self.name = name
        self.html_name = form.add_prefix(name)

    @property
    def data(self) -> Any:
        """The input's value: the data's item under its name (a ``QueryDict``'s last one),
        as an input field's widget (Django's default, ``TextInput``) reads it."""
        return self.form.data.get(self.html_name)

    def __getattr__(self, attr: str) -> Any:
        # Only for an attribute not set yet: complete the set-up once, then look again.
        state = self.__dict__
        if attr.startswith("__") or "form" not in state or state.get("_set_up"):
            raise AttributeError(attr)
        state["_set_up"] = True
        BoundField.__init__(self, self.form, self.field, self.name)
        return object.__getattribute__(self, attr)


class InputField(forms.Field):
    """An endpoint's input: never required by Django (each field says what a missing value
    means), stateless, shared by every form that declares it, and bound as an
    :class:`InputValue`. Its widget is Django's default (never rendered)."""

    def __init__(self, **kwargs: Any) -> None:
        if "widget" in kwargs:
            raise TypeError("An input field reads its value as the default widget does.")
        super().__init__(required=False, **kwargs)

    def __deepcopy__(self, memo: dict[int, Any]) -> InputField:
        return self

    def clean(self, value: Any) -> Any:
        """The value as sent, once its validators (none by default) passed: Django's
        ``Field.clean`` for a field that converts nothing and is never required. An input
        with a rule overrides this."""
        if self.validators:
            self.run_validators(value)
        return value

    def get_bound_field(self, form: forms.BaseForm, field_name: str) -> BoundField:
        return InputValue(form, self, field_name)


class _SharedFields(dict):  # type: ignore[type-arg]
    """A form class's ``base_fields`` when they are all input fields: a form's copy is a new
    dict of the same fields."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, forms.Field]:
        return dict(self)


class _InputFormMetaclass(DeclarativeFieldsMetaclass):
    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> Any:
        form_class: Any = super().__new__(mcs, name, bases, attrs)
        fields = form_class.base_fields
        if all(isinstance(field, InputField) for field in fields.values()):
            form_class.base_fields = _SharedFields(fields)
        return form_class


class InputForm(forms.Form, metaclass=_InputFormMetaclass):
    """A form of an endpoint's inputs (a ``dict`` read from JSON, or a ``QueryDict``): bound
    to ``data`` when made, never rendered (so no label suffix to translate)."""

    def __init__(self, data: Any) -> None:
        super().__init__(data, label_suffix="")

    def _clean_fields(self) -> None:
        """Django's loop over the fields (4.2 to 6.x: each value cleaned by its field, then
        by ``clean_<name>()``; a ``ValidationError`` goes to ``add_error()``), reading each
        input as its bound field would but binding none: the signed-URL benchmark shows
        the binding, per field and per request, in the view's time. ``tests/test_input_forms.py``
        proves both loops give the same errors and values. A form with a field that is no
        input field, or a disabled one, is cleaned by Django's loop."""
        fields = self.fields
        if not all(isinstance(f, InputField) and not f.disabled for f in fields.values()):
            super()._clean_fields()  # type: ignore[misc]
            return
        data, cleaned = self.data, self.cleaned_data
        for name, field in fields.items():
            try:
                cleaned[name] = field.clean(data.get(self.add_prefix(name)))
                hook = getattr(self, f"clean_{name}", None)
                if hook is not None:
                    cleaned[name] = hook()
            except ValidationError as error:
                self.add_error(name, error)
