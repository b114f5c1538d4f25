"""Python values → HCL text that `terraform fmt` leaves unchanged.

fmt aligns the `=` of consecutive single-line attributes (a multi-line value or a blank line ends
the run); everything here follows that rule so rendered files need no formatter.

Every user string reaches a rendered file through `string` (a quoted template), `key` (an object
key) or `comment` (the text after a `#`); none of them lets the text end its token or its line.
A bare name goes through `name`, which refuses anything but an identifier.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INLINE_MAX = 100
INDENT = "  "
# An object key HCL would read as something else: the literals, and `for`/`if`/`in`, which start
# or shape a for-expression (`{for = 1}` parses as `{for ...}`; hashicorp/hcl hclsyntax spec).
_KEYWORDS = frozenset({"null", "true", "false", "for", "if", "in"})

_NEEDS_ESCAPE = re.compile(r'[\\"\n\r\t]|\$\{|%\{')
_SIMPLE_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _unicode_escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


# A large render quotes the same Regions and account ids thousands of times.
@lru_cache(maxsize=4096)
def string(value: str) -> str:
    """A quoted HCL string. Control and other invisible characters (ESC, U+202E, U+2028, ...)
    are written as \\u escapes: Terraform reads the same string, and a reviewer sees them."""
    if not _NEEDS_ESCAPE.search(value) and value.isprintable():
        return f'"{value}"'
    out = []
    for char in value:
        simple = _SIMPLE_ESCAPES.get(char)
        if simple is not None:
            out.append(simple)
        elif char.isprintable():
            out.append(char)
        else:
            out.append(_unicode_escape(char))
    escaped = "".join(out).replace("${", "$${").replace("%{", "%%{")
    return f'"{escaped}"'


def comment(text: str) -> str:
    """Text to follow a `#`: a line break (LF, CR, NEL, U+2028/9), any other control or invisible
    character, and `*/` are written visibly, so nothing in it can end the comment or its line."""
    if text.isprintable() and "*/" not in text:
        return text
    visible = "".join(c if c.isprintable() else _unicode_escape(c) for c in text)
    return visible.replace("*/", "* /")


@lru_cache(maxsize=1024)
def key(name: str) -> str:
    return name if _IDENT.fullmatch(name) and name not in _KEYWORDS else string(name)


def name(text: str) -> str:
    """A name written bare (a provider alias in `aws.NAME`): it must be an identifier already."""
    if not _IDENT.fullmatch(text):
        raise ValueError(f"{text!r} is not an HCL identifier")
    return text


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
    if kind is int:
        return repr(value)
    if kind is float:
        if not math.isfinite(value):
            raise ValueError(f"HCL has no number {value!r}; the spec checks refuse it")
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
    if type(value) is str:  # most values: skip the type tests of _scalar
        return string(value)
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
    kind = type(value)
    if kind is dict or (kind is not list and kind is not tuple and isinstance(value, Mapping)):
        if not value:
            return "{}"
        parts = []
        for k, v in value.items():
            if type(v) is str:
                text: str | None = string(v)
            elif isinstance(v, Mapping | list | tuple):
                return None
            else:
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
