"""How an option is declared and read off its ``S3Settings`` field: :func:`option` and
:class:`Option`, one row of the option table ``buckets.conf.OPTIONS``."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from typing import Any

from buckets.conf import values as valid

__all__ = ["Option", "option", "option_table"]


def option(
    default: Any = dataclasses.MISSING,
    *,
    factory: Callable[[], Any] | None = None,
    aws_key: str | None = None,
    setting: str | tuple[str, ...] = (),
    required: str | None = None,
    check: valid.Check | None = None,
) -> Any:
    """Declare an option: an ``S3Settings`` field with ``default`` (or a fresh ``factory()``).

    ``aws_key``: its ``AWS`` dict key, when not the name upper-cased. ``required``: what is
    missing (``"S3 bucket"``) when it is not set; an option with no default needs it.
    ``setting``: django-storages' global setting name(s) for it, the first set one read.
    ``check``: a value check from ``buckets.conf.values``, run after the type check,
    whose result is the value kept.
    """
    settings_names = (setting,) if isinstance(setting, str) else setting
    metadata = {
        "aws_key": aws_key,
        "settings": settings_names,
        "required": required,
        "check": check,
    }
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class Option:
    """One row of the option table, as read off its ``S3Settings`` field."""

    name: str
    aws_key: str
    #: django-storages' global setting names for it, in the order it reads them.
    settings: tuple[str, ...]
    #: The classes a value may be, from the field's annotation (``float`` takes an ``int``
    #: too, a ``bool`` is never an ``int``); None for ``Any``: the check alone decides.
    types: tuple[type, ...] | None
    #: ``dataclasses.MISSING`` when there is none or it comes from a factory.
    default: Any
    required: str | None
    check: valid.Check | None

    @property
    def empty_is_unset(self) -> bool:
        """An optional string (``str | None``): ``""`` means the same as not set."""
        return self.types == (str, type(None))

    def type_error(self, value: Any) -> str | None:
        """What is wrong with ``value``'s type, or None if it has one the option takes."""
        if self.types is None or (
            isinstance(value, self.types) and (bool in self.types or not isinstance(value, bool))
        ):
            return None
        names = " or ".join("None" if t is type(None) else t.__name__ for t in self.types)
        return f"must be of type {names}, not {type(value).__name__}"


def _isinstance_types(hint: Any) -> tuple[type, ...] | None:
    if hint is Any:
        return None
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    classes: list[type] = []
    for cls in typing.get_args(hint) if union else (hint,):
        cls = typing.get_origin(cls) or cls  # Mapping[str, Any] is checked as Mapping
        classes.extend((int, float) if cls is float else (cls,))
    return tuple(classes)


def option_table(settings_class: type) -> dict[str, Option]:
    """The rows of the option table, one per field of ``settings_class``."""
    hints = typing.get_type_hints(settings_class)
    return {
        field.name: Option(
            name=field.name,
            aws_key=field.metadata["aws_key"] or field.name.upper(),
            settings=field.metadata["settings"],
            types=_isinstance_types(hints[field.name]),
            default=field.default,
            required=field.metadata["required"],
            check=field.metadata["check"],
        )
        for field in dataclasses.fields(settings_class)
    }
