"""Python values → HCL text that `terraform fmt` leaves unchanged.

fmt aligns the `=` of consecutive single-line attributes (a multi-line value or a blank line ends
the run); everything here follows that rule so rendered files need no formatter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INLINE_MAX = 100
INDENT = "  "


_NEEDS_ESCAPE = re.compile(r'[\\"\n\r\t]|\$\{|%\{')


def string(value: str) -> str:
    if not _NEEDS_ESCAPE.search(value):
        return f'"{value}"'
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
        .replace("${", "$${")
        .replace("%{", "%%{")
    )
    return f'"{escaped}"'


def key(name: str) -> str:
    return name if _IDENT.match(name) and name not in ("null", "true", "false") else string(name)


def identifier(text: str) -> str:
    """A Terraform block label made from free text: lowercase, [a-z0-9_], not starting with a digit."""
    out = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "x"
    return out if not out[0].isdigit() else f"r_{out}"


@dataclass(frozen=True, slots=True)
class Call:
    """A function call such as jsonencode(...) around a value."""

    function: str
    argument: Any


@dataclass(frozen=True, slots=True)
class Ref:
    """A bare reference such as aws.us_east_1, written without quotes."""

    text: str


def _scalar(value: Any) -> str | None:
    kind = type(value)
    if kind is str:
        return string(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is float:
        return repr(value)
    if isinstance(value, Ref):
        return value.text
    if isinstance(value, str):
        return string(value)
    return None


# One render walks a value once: each collection's single-line form is computed once and kept
# here by id() while the value is alive (the multi-line path asks for its children's forms).
_Memo = dict[int, str | None]


def inline(value: Any, memo: _Memo | None = None) -> str | None:
    """The single-line form of a value, or None when it must span lines."""
    scalar = _scalar(value)
    if scalar is not None:
        return scalar
    if memo is None:
        memo = {}
    ident = id(value)
    if ident in memo:
        return memo[ident]
    text = _inline_collection(value, memo)
    memo[ident] = text
    return text


def _inline_collection(value: Any, memo: _Memo) -> str | None:
    if isinstance(value, Call):
        arg = inline(value.argument, memo)
        return None if arg is None else f"{value.function}({arg})"
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        parts = []
        for k, v in value.items():
            if isinstance(v, Mapping | list | tuple):
                return None
            text = inline(v, memo)
            if text is None:
                return None
            parts.append(f"{key(str(k))} = {text}")
        out = "{ " + ", ".join(parts) + " }"
        return out if len(out) <= _INLINE_MAX else None
    if isinstance(value, Sequence):
        if not value:
            return "[]"
        items = []
        width = 0
        for v in value:
            text = inline(v, memo)
            if text is None:
                return None
            width += len(text) + 2
            if width > _INLINE_MAX:
                return None
            items.append(text)
        out = "[" + ", ".join(items) + "]"
        return out if len(out) <= _INLINE_MAX else None
    raise TypeError(f"cannot render {type(value).__name__} as HCL")


def value(val: Any, level: int, memo: _Memo | None = None) -> str:
    """A value written at `level` indentation; the first line is not indented."""
    if memo is None:
        memo = {}
    text = inline(val, memo)
    if text is not None:
        return text
    pad = INDENT * level
    if isinstance(val, Call):
        return f"{val.function}({value(val.argument, level, memo)})"
    if isinstance(val, Mapping):
        return "{\n" + attributes(val, level + 1, memo) + pad + "}"
    lines = [f"{pad}{INDENT}{value(item, level + 1, memo)},\n" for item in val]
    return "[\n" + "".join(lines) + pad + "]"


def attributes(items: Mapping[str, Any], level: int, memo: _Memo | None = None) -> str:
    """`key = value` lines, aligned the way terraform fmt aligns them."""
    if memo is None:
        memo = {}
    pad = INDENT * level
    rendered = [(key(str(k)), value(v, level, memo)) for k, v in items.items()]
    out: list[str] = []
    run: list[tuple[str, str]] = []

    def flush() -> None:
        width = max((len(k) for k, _ in run), default=0)
        out.extend(f"{pad}{k.ljust(width)} = {v}\n" for k, v in run)
        run.clear()

    for k, v in rendered:
        if "\n" in v:
            flush()
            out.append(f"{pad}{k} = {v}\n")
        else:
            run.append((k, v))
    flush()
    return "".join(out)
