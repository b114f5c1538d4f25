"""YAML text → plain data, plus the line and column of every key and item.

PyYAML keeps the last of two equal keys silently; a spec must not, so mappings are built from the
composed node tree here, where duplicates are seen and every path gets its position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

import yaml

from tfgen.spec.issues import Issue, Path, SpecError

try:  # libyaml is ~10x faster on large specs; the pure-Python loader gives the same nodes
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader

_MERGE_TAG = "tag:yaml.org,2002:merge"
_constructor = yaml.constructor.SafeConstructor()


@dataclass(slots=True)
class Positions:
    """Line and column (1-based) of each path; a missing path falls back to its nearest parent."""

    file: str
    marks: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: Path) -> tuple[int | None, int | None]:
        probe = tuple(path)
        while True:
            mark = self.marks.get(probe)
            if mark is not None:
                return mark
            if not probe:
                return None, None
            probe = probe[:-1]

    def issue(self, issue: Issue) -> Issue:
        """The issue with this file's name and the line of its path filled in."""
        line, column = self.locate(issue.path)
        return Issue(issue.path, issue.message, issue.severity, line, column, self.file)


@dataclass(frozen=True, slots=True)
class Document:
    data: Any
    positions: Positions


def load_text(text: str, file: str = "tfgen.yaml") -> Document:
    positions = Positions(file)
    try:
        node = yaml.compose(text, Loader=_Loader)
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
    if node is None:
        raise SpecError([Issue((), "the spec is empty; start with 'version: 1'", file=file)])
    issues: list[Issue] = []
    data = _build(node, (), positions, issues)
    if issues:
        raise SpecError(issues)
    return Document(data, positions)


def load_file(path: str | FsPath) -> Document:
    name = str(path)
    try:
        text = FsPath(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(
            [Issue((), "no such file; create one with 'tfgen init'", file=name)]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Issue((), f"cannot read the spec: {exc}", file=name)]) from None
    return load_text(text, name)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _build(node: yaml.Node, path: Path, positions: Positions, issues: list[Issue]) -> Any:
    positions.marks.setdefault(path, _mark(node))
    if isinstance(node, yaml.MappingNode):
        return _build_mapping(node, path, positions, issues)
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), positions, issues) for i, item in enumerate(node.value)]
    return _constructor.construct_object(node, deep=True)


def _build_mapping(
    node: yaml.MappingNode, path: Path, positions: Positions, issues: list[Issue]
) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    merged: dict[Any, Any] = {}
    first_seen: dict[Any, int] = {}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE_TAG:
            sources = (
                value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            )
            for source in sources:
                value = _build(source, path, positions, issues)
                if isinstance(value, dict):
                    for k, v in value.items():
                        merged.setdefault(k, v)
            continue
        if not isinstance(key_node, yaml.ScalarNode):
            line, column = _mark(key_node)
            issues.append(
                Issue(
                    path,
                    "a key must be a plain string",
                    line=line,
                    column=column,
                    file=positions.file,
                )
            )
            continue
        key = _constructor.construct_object(key_node)
        line, column = _mark(key_node)
        if key in first_seen:
            issues.append(
                Issue(
                    (*path, str(key)),
                    f"duplicate key '{key}' (first set at line {first_seen[key]}); "
                    "YAML keeps only one, so remove or rename one of them",
                    line=line,
                    column=column,
                    file=positions.file,
                )
            )
            continue
        first_seen[key] = line
        child = (*path, str(key))
        positions.marks[child] = (line, column)
        out[key] = _build(value_node, child, positions, issues)
    for k, v in merged.items():
        out.setdefault(k, v)
    return out
