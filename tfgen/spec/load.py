"""YAML text → plain data, plus the line and column of every key and item.

PyYAML keeps the last of two equal keys silently; a spec must not, so mappings are built from the
composed node tree here, where duplicates are seen and every path gets its position.

A spec arrives in pull requests, so the loader also bounds what a small text can cost: its size,
its nesting depth and the nodes its aliases repeat (a 736-byte "billion laughs" document once cost
77 s and 955 MB downstream). YAML 1.1's surprises are caught here, where the original text is
known: dates stay strings (IAM's `Version: 2012-10-17`), and a key or value YAML read as a boolean
or number that does not print back as written (`on`, `011111111111`) is noted for the messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path as FsPath
from typing import Any

import yaml

from tfgen.constants import DEFAULT_SPEC
from tfgen.spec.document import MAX_BYTES, MAX_DEPTH, Document, Positions
from tfgen.spec.issues import Issue, SpecError, SpecPath

try:  # libyaml is ~10x faster on large specs; the pure-Python loader gives the same nodes
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader

_MERGE_TAG = "tag:yaml.org,2002:merge"
MAX_ALIAS_NODES = 100_000  # nodes repeated through aliases; a billion-laughs bomb hits it at once
_constructor = yaml.constructor.SafeConstructor()


def load_text(text: str, file: str = DEFAULT_SPEC) -> Document:
    # len(text) <= its UTF-8 size <= 4 * len(text): encode only when the bound is not clear.
    if len(text) > MAX_BYTES or (len(text) * 4 > MAX_BYTES and len(text.encode()) > MAX_BYTES):
        raise SpecError([_too_large(file)])
    positions = Positions(file)
    issues: list[Issue] = []
    try:
        data = _Builder(positions, issues).build(yaml.parse(text, Loader=_Loader))
    except _Refused:
        raise SpecError(issues) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        raise SpecError(
            [Issue((), f"malformed YAML: {what}", line=line, column=column, file=file)]
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError([Issue((), f"malformed YAML: {exc}", file=file)]) from None
    if issues:
        raise SpecError(issues)
    if data is _EMPTY or data is None:
        line, column = positions.locate(())
        raise SpecError(
            [
                Issue(
                    (),
                    "the spec is empty; start with 'version: 1'",
                    line=line,
                    column=column,
                    file=file,
                )
            ]
        )
    return Document(data, positions)


def _too_large(file: str) -> Issue:
    return Issue(
        (),
        f"the spec is larger than {MAX_BYTES // (1024 * 1024)} MiB; tfgen refuses it rather than "
        "spend minutes on it (split the organisation into several specs)",
        file=file,
    )


def load_file(path: str | FsPath) -> Document:
    name = str(path)
    try:
        with open(path, "rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise SpecError([_too_large(name)])
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise SpecError(
            [Issue((), "no such file; create one with 'tfgen init'", file=name)]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Issue((), f"cannot read the spec: {exc}", file=name)]) from None
    return load_text(text, name)


_EMPTY = object()
_resolver = yaml.resolver.Resolver()
_IMPLICIT_FIRST = frozenset(k for k in _resolver.yaml_implicit_resolvers if k is not None)
_STR_TAG = "tag:yaml.org,2002:str"
_BINARY_TAG = "tag:yaml.org,2002:binary"
# IAM's Version and date conditions, and every date AWS documents, are strings: keep the text.
# "value" is what PyYAML resolves a lone '=' to, and has no constructor.
_TEXT_TAGS = frozenset({_STR_TAG, "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value"})
_COLLECTION_TAGS = frozenset({None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})


class _Refused(Exception):
    """The document is too deep or repeats too much through aliases; the issue is recorded."""


@dataclass(slots=True)
class _Frame:
    container: Any  # dict or list
    path: SpecPath
    anchor: str | None
    key: Any = _EMPTY
    first_seen: dict[Any, int] = field(default_factory=dict)
    merges: list[Any] = field(default_factory=list)
    size: int = 1  # nodes in this collection, counting what its aliases repeat
    is_key: bool = False  # a collection used as a mapping key: reported, then dropped


class _Builder:
    """Builds plain data from libyaml's event stream, recording the position of every path.

    Going from events (not composed nodes) roughly halves load time on large specs.
    """

    def __init__(self, positions: Positions, issues: list[Issue]) -> None:
        self.positions = positions
        self.issues = issues
        self.anchors: dict[str, tuple[Any, int]] = {}  # anchor → (value, its size in nodes)
        self.stack: list[_Frame] = []
        self.result: Any = _EMPTY
        self.documents = 0
        self.repeated = 0  # nodes produced through aliases so far

    def build(self, events: Any) -> Any:
        for event in events:
            kind = type(event)
            if kind is yaml.ScalarEvent:
                self._value(self._scalar(event), event)
            elif kind is yaml.MappingStartEvent:
                self._open({}, event)
            elif kind is yaml.SequenceStartEvent:
                self._open([], event)
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                self._close()
            elif kind is yaml.AliasEvent:
                self._alias(event)
            elif kind is yaml.DocumentStartEvent:
                self.positions.marks.setdefault((), _mark(event))
                self.documents += 1
                if self.documents > 1:
                    raise yaml.MarkedYAMLError(
                        problem="a spec is one YAML document; remove the second '---'",
                        problem_mark=event.start_mark,
                    )
        return self.result

    def _alias(self, event: Any) -> None:
        if event.anchor not in self.anchors:
            raise yaml.MarkedYAMLError(
                problem=f"unknown alias *{event.anchor}", problem_mark=event.start_mark
            )
        value, size = self.anchors[event.anchor]
        self.repeated += size
        if self.repeated > MAX_ALIAS_NODES:
            self._refuse(
                event,
                f"aliases repeat more than {MAX_ALIAS_NODES:,} nodes (*{event.anchor} alone "
                f"repeats {size:,}); a spec that expands this much is refused, as it would take "
                "minutes and gigabytes to check",
            )
        self._value(value, event, alias=True, size=size)

    def _refuse(self, event: Any, message: str) -> None:
        path = self._child_path(event)
        where = path if path is not None else self.stack[-1].path
        self._issue(event, message, where)
        raise _Refused

    def _child_path(self, event: Any) -> SpecPath | None:
        """The path of the value this event starts, or None when it is a mapping key."""
        if not self.stack:
            return ()
        frame = self.stack[-1]
        if isinstance(frame.container, list):
            return (*frame.path, len(frame.container))
        if frame.key is _EMPTY:
            return None
        return (*frame.path, str(frame.key))

    def _open(self, container: Any, event: Any) -> None:
        if len(self.stack) >= MAX_DEPTH:
            self._refuse(
                event,
                f"nested more than {MAX_DEPTH} levels deep; no part of a spec is this deep "
                "(is a bracket or an indentation off?)",
            )
        path = self._child_path(event)
        is_key = path is None
        if path is None:
            self._issue(event, "a key must be a plain string")
            path = (*self.stack[-1].path, "?")
        self.positions.marks.setdefault(path, _mark(event))
        if event.tag not in _COLLECTION_TAGS:
            self._issue(event, f"unsupported YAML tag {event.tag}; a spec holds plain data", path)
        self.stack.append(_Frame(container, path, event.anchor, is_key=is_key))

    def _close(self) -> None:
        frame = self.stack.pop()
        value = frame.container
        if isinstance(value, dict):
            for merged in frame.merges:
                for k, v in merged.items():
                    value.setdefault(k, v)
        if frame.anchor:
            self.anchors[frame.anchor] = (value, frame.size)
        if frame.is_key:
            self.stack[-1].key = _DUPLICATE  # reported in _open: drop its value too
            return
        self._value(value, None, size=frame.size)

    def _value(self, value: Any, event: Any, *, alias: bool = False, size: int = 1) -> None:
        if event is not None and not alias and getattr(event, "anchor", None):
            self.anchors[event.anchor] = (value, size)
        if not self.stack:
            if event is not None:
                self.positions.marks.setdefault((), _mark(event))
            self.result = value
            return
        frame = self.stack[-1]
        frame.size += size
        container = frame.container
        if isinstance(container, list):
            if event is not None:
                self.positions.marks.setdefault((*frame.path, len(container)), _mark(event))
                if not alias and type(value) is not str:
                    self._note((*frame.path, len(container)), value, event)
            container.append(value)
            return
        if frame.key is _EMPTY:  # this value is a key
            if isinstance(value, dict | list):  # an alias of a collection
                self._issue(event, "a key must be a plain string")
                frame.key = _DUPLICATE
                return
            line, column = _mark(event)
            if value == "<<" and event.implicit[0]:
                frame.key = _MERGE_TAG
                return
            if type(value) is not str:
                if alias:
                    self._issue(event, "a key must be a plain string")
                else:
                    where = (*frame.path, event.value)
                    self._issue(event, _key_message(event.value, value), where)
                frame.key = _DUPLICATE  # reported: drop its value too
                return
            if value in frame.first_seen:
                self._issue(
                    event,
                    f"duplicate key '{value}' (first set at line {frame.first_seen[value]}); "
                    "YAML keeps only one, so remove or rename one of them",
                    (*frame.path, str(value)),
                )
                frame.key = _DUPLICATE
                return
            frame.first_seen[value] = line
            self.positions.marks[(*frame.path, str(value))] = (line, column)
            frame.key = value
            return
        key, frame.key = frame.key, _EMPTY
        if key is _MERGE_TAG:
            sources = value if isinstance(value, list) else [value]
            if not all(isinstance(m, dict) for m in sources):
                self._issue(
                    event,
                    "a merge key '<<' takes a mapping or a list of mappings (usually *anchors)",
                    frame.path,
                )
            frame.merges.extend(m for m in sources if isinstance(m, dict))
        elif key is not _DUPLICATE:
            if event is not None and not alias and type(value) is not str:
                self._note((*frame.path, str(key)), value, event)
            container[key] = value

    def _note(self, path: SpecPath, value: Any, event: Any) -> None:
        """Remember how YAML read an unquoted scalar whose value does not print as written."""
        if event.tag not in (None, "!"):  # an explicit !!int or !!bool is what the user asked for
            return
        note = _surprise(event.value, value)
        if note is not None:
            self.positions.notes[path] = note

    def _scalar(self, event: Any) -> Any:
        value = event.value
        tag = event.tag
        if tag is None or tag == "!":
            if not event.implicit[0]:  # quoted
                return value
            if value == "<<" or (value and value[0] not in _IMPLICIT_FIRST):
                return value
            tag = _implicit_tag(value)
        if tag in _TEXT_TAGS:
            return value
        if tag == _BINARY_TAG:
            path = self._child_path(event)
            self._issue(
                event,
                "!!binary data has no place in a spec (policies are JSON text); "
                "write the value as a plain string",
                path if path is not None else self.stack[-1].path,
            )
            return value
        try:
            return _constructor.construct_object(yaml.ScalarNode(tag, value, event.start_mark))
        except yaml.constructor.ConstructorError as exc:
            raise yaml.MarkedYAMLError(
                problem=str(exc.problem), problem_mark=event.start_mark
            ) from None
        except (ValueError, IndexError):  # IndexError: an empty !!int or !!float
            raise yaml.MarkedYAMLError(
                problem=f"{value!r} is not a valid {tag.rsplit(':', 1)[-1]}",
                problem_mark=event.start_mark,
            ) from None

    def _issue(self, event: Any, message: str, path: SpecPath | None = None) -> None:
        where = path if path is not None else (self.stack[-1].path if self.stack else ())
        line, column = _mark(event) if event is not None else self.positions.locate(where)
        self.issues.append(
            Issue(where, message, line=line, column=column, file=self.positions.file)
        )


_DUPLICATE = object()


@lru_cache(maxsize=4096)
def _implicit_tag(value: str) -> str:
    """The tag YAML 1.1 gives a plain scalar: a spec repeats the same keys thousands of times, and
    each resolution tries the patterns of booleans, nulls and numbers in turn."""
    return _resolver.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call,no-any-return]


def _read_as(text: str, value: Any) -> str:
    """How YAML 1.1 read an unquoted scalar, in words."""
    if isinstance(value, bool):
        return f"the boolean {'true' if value else 'false'}"
    if value is None:
        return "null (nothing)"
    if isinstance(value, int):
        digits = text.lstrip("+-")
        if len(digits) > 1 and digits[0] == "0" and digits[1] not in "xXbB":
            return f"the octal number {value}"
        return f"the number {value}"
    return f"the number {value!r}"


def _surprise(text: str, value: Any) -> str | None:
    """A note when YAML read `text` as something that does not print back as written."""
    if isinstance(value, bool):
        if text.lower() in ("true", "false"):
            return None
    elif value is None or str(value) == text:
        return None
    return f'YAML read the unquoted {text} as {_read_as(text, value)}: write "{text}" in quotes'


def _key_message(text: str, value: Any) -> str:
    return (
        f"key {text} was read by YAML as {_read_as(text, value)}, not as text; keys are text: "
        f'write "{text}" in quotes'
    )


def _mark(event: Any) -> tuple[int, int]:
    return event.start_mark.line + 1, event.start_mark.column + 1
