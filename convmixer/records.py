"""One record format for everything the package stores as JSON: run records, study results, the
run store, the export record of a shipped model and the benchmark results read back.

A record is a (frozen) dataclass. :func:`to_record` turns it into plain JSON data: a dict of its
fields in order, nested dataclasses as dicts, tuples and lists as lists; :func:`from_record`
builds it back from that data by its type hints (nested dataclasses, ``tuple[X, ...]``,
``list[X]``, ``dict[str, X]``, ``X | None``, ``Literal``), so ``from_record(cls, to_record(x)) ==
x``. A missing field (without a default), an unknown field or a value of the wrong type is one
``ValueError`` naming the field.

A record *file* is one JSON object whose top level says what it is and in which version::

    {"format": "<kind>", "version": <int>, ...the payload's keys...}

:func:`write_record_file` writes it atomically (a failure leaves the previous file whole);
:func:`read_record_file` returns the payload and turns a missing file (naming the script that makes
it, where given), an unreadable one, another kind or another version into one ``ValueError``
sentence. A file in an older layout is migrated once, never special-cased by a reader.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import types
import typing
from pathlib import Path
from typing import Any, TypeVar, Union

from convmixer._util import atomic_write_text

T = TypeVar("T")

FORMAT_KEY = "format"
VERSION_KEY = "version"


# --- dataclasses <-> plain data ------------------------------------------------------------------


def to_record(obj: Any) -> Any:
    """``obj`` as plain JSON data: dataclasses become dicts (fields in order), tuples and lists
    lists, dicts dicts with their values converted; numbers, strings, booleans and ``None`` stay."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_record(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (tuple, list)):
        return [to_record(item) for item in obj]
    if isinstance(obj, dict):
        return {key: to_record(value) for key, value in obj.items()}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot store a {type(obj).__name__} in a record: {obj!r}")


def from_record(cls: type[T], data: Any) -> T:
    """The dataclass ``cls`` built from ``data`` (what :func:`to_record` made of one).

    Raises:
        ValueError: a field is missing or unknown, or a value does not fit its type; the message
            names the field (e.g. ``history[2].epoch``).
    """
    return _build(cls, data, cls.__name__)


def _build(hint: Any, data: Any, where: str) -> Any:
    if hint is Any:
        return data
    if dataclasses.is_dataclass(hint):
        return _build_dataclass(hint, data, where)
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        if data is None and type(None) in arguments:
            return None
        errors = []
        for option in (a for a in arguments if a is not type(None)):
            try:
                return _build(option, data, where)
            except ValueError as error:
                errors.append(str(error))
        raise ValueError(errors[0] if len(errors) == 1 else f"{where}: {data!r} fits none of {hint}")
    if origin is typing.Literal:
        if data not in arguments:
            raise ValueError(f"{where}: {data!r} is not one of {', '.join(map(repr, arguments))}")
        return data
    if origin in (tuple, list):
        if not isinstance(data, (list, tuple)):
            raise ValueError(f"{where}: expected a list, got {type(data).__name__}")
        if origin is tuple and arguments and arguments[-1] is not Ellipsis:
            if len(arguments) != len(data):
                raise ValueError(f"{where}: expected {len(arguments)} items, got {len(data)}")
            items = [_build(a, item, f"{where}[{i}]") for i, (a, item) in enumerate(zip(arguments, data))]
        else:
            item_hint = arguments[0] if arguments else Any
            items = [_build(item_hint, item, f"{where}[{i}]") for i, item in enumerate(data)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected an object, got {type(data).__name__}")
        value_hint = arguments[1] if arguments else Any
        return {key: _build(value_hint, value, f"{where}[{key!r}]") for key, value in data.items()}
    if hint in (tuple, list, dict):
        return _build(hint[Any, ...] if hint is tuple else hint[Any] if hint is list else dict[str, Any], data, where)
    return _build_scalar(hint, data, where)


def _build_scalar(hint: Any, data: Any, where: str) -> Any:
    if hint is float and isinstance(data, (int, float)) and not isinstance(data, bool):
        return float(data)
    if hint is int and isinstance(data, int) and not isinstance(data, bool):
        return data
    if hint in (str, bool, type(None)) and type(data) is hint:
        return data
    if hint is type(None) and data is None:
        return None
    raise ValueError(f"{where}: expected {getattr(hint, '__name__', hint)}, got {data!r}")


def _build_dataclass(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object with the fields of {cls.__name__}, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)} for {cls.__name__}")
    missing = [name for name, f in fields.items() if name not in data
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ValueError(f"{where}: missing field(s) {', '.join(missing)} of {cls.__name__}")
    values = {name: _build(hints[name], value, f"{where}.{name}") for name, value in data.items()}
    try:
        return cls(**values)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: {error}") from None


# --- record files ----------------------------------------------------------------------------------


def write_record_file(path: str | os.PathLike, kind: str, version: int, payload: dict[str, Any],
                      number_rows_on_one_line: bool = False) -> Path:
    """Write ``{"format": kind, "version": version, **payload}`` to ``path`` as indented JSON,
    atomically (a failure leaves the previous file whole); with ``number_rows_on_one_line``
    every list of numbers takes one line. ``payload`` is plain data (:func:`to_record`)."""
    if FORMAT_KEY in payload or VERSION_KEY in payload:
        raise ValueError(f"a record's payload cannot have a {FORMAT_KEY!r} or {VERSION_KEY!r} key")
    text = json.dumps({FORMAT_KEY: kind, VERSION_KEY: version, **payload}, indent=1)
    if number_rows_on_one_line:
        text = re.sub(r"\[\n[-+.,\deE\s]*\]", lambda m: "[" + " ".join(m.group()[1:-1].split()) + "]", text)
    return atomic_write_text(path, text + "\n")


def read_record_file(path: str | os.PathLike, kind: str, version: int, made_by: str | None = None) -> dict[str, Any]:
    """The payload of a file :func:`write_record_file` wrote with ``kind`` and ``version`` (the
    top-level object without its ``format`` and ``version`` keys).

    Raises:
        ValueError: the file does not exist (naming ``made_by``, the script that makes it, when
            given), cannot be read as a JSON object, or is another kind or another version.
    """
    path = Path(path)
    try:
        content = json.loads(path.read_text())
    except FileNotFoundError:
        hint = f"; run {made_by} to make it" if made_by else ""
        raise ValueError(f"{path} does not exist{hint}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is not a readable {kind} file ({type(error).__name__}: {error})") from None
    if not isinstance(content, dict) or content.get(FORMAT_KEY) != kind:
        found = content.get(FORMAT_KEY) if isinstance(content, dict) else None
        raise ValueError(f"{path} is not a {kind} file (its format is {found!r})")
    if content.get(VERSION_KEY) != version:
        raise ValueError(
            f"{path} is version {content.get(VERSION_KEY)!r} of the {kind} format; this code reads version {version}"
        )
    return {key: value for key, value in content.items() if key not in (FORMAT_KEY, VERSION_KEY)}
