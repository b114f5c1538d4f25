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
    if isinstance(value, str):
        return string(value)
    if isinstance(value, Ref):
        return value.text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return None


def inline(value: Any) -> str | None:
    """The single-line form of a value, or None when it must span lines."""
    scalar = _scalar(value)
    if scalar is not None:
        return scalar
    if isinstance(value, Call):
        arg = inline(value.argument)
        return None if arg is None else f"{value.function}({arg})"
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        parts = []
        for k, v in value.items():
            text = inline(v)
            if text is None or isinstance(v, Mapping | list | tuple):
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
            text = inline(v)
            if text is None:
                return None
            width += len(text) + 2
            if width > _INLINE_MAX:
                return None
            items.append(text)
        out = "[" + ", ".join(items) + "]"
        return out if len(out) <= _INLINE_MAX else None
    raise TypeError(f"cannot render {type(value).__name__} as HCL")


def value(val: Any, level: int) -> str:
    """A value written at `level` indentation; the first line is not indented."""
    text = inline(val)
    if text is not None:
        return text
    pad = INDENT * level
    if isinstance(val, Call):
        return f"{val.function}({value(val.argument, level)})"
    if isinstance(val, Mapping):
        return "{\n" + attributes(val, level + 1) + pad + "}"
    lines = [f"{pad}{INDENT}{value(item, level + 1)},\n" for item in val]
    return "[\n" + "".join(lines) + pad + "]"


def attributes(items: Mapping[str, Any], level: int) -> str:
    """`key = value` lines, aligned the way terraform fmt aligns them."""
    pad = INDENT * level
    rendered = [(key(str(k)), value(v, level)) for k, v in items.items()]
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
