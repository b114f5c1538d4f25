"""Problems found in a spec: where (file, line, path), what rule, and what would be right."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from tfgen.errors import TfgenError

PathPart = str | int
Path = tuple[PathPart, ...]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Issue:
    path: Path
    message: str
    severity: Severity = Severity.ERROR
    line: int | None = None
    column: int | None = None
    file: str | None = None

    @property
    def where(self) -> str:
        return format_path(self.path)

    def format(self) -> str:
        loc = self.file or "<spec>"
        if self.line is not None:
            loc += f":{self.line}"
            if self.column is not None:
                loc += f":{self.column}"
        path = f"{self.where}: " if self.path else ""
        return f"{loc}: {self.severity.value}: {path}{self.message}"

    def to_json(self) -> dict[str, object]:
        return {
            "severity": self.severity.value,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.where,
            "message": self.message,
        }


class SpecError(TfgenError):
    """The spec is invalid; carries every problem found, errors and warnings."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = tuple(issues)
        errors = [i for i in self.issues if i.severity is Severity.ERROR]
        super().__init__(f"{len(errors)} error(s) in the spec")

    def format(self) -> str:
        return "\n".join(i.format() for i in self.issues)


def format_path(path: Path) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif out:
            out += f".{part}"
        else:
            out = part
    return out


def did_you_mean(value: object, candidates: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest candidate, or a short list of what is allowed."""
    options = sorted(set(candidates))
    close = difflib.get_close_matches(str(value), options, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    if not options:
        return ""
    if len(options) <= 8:
        return "; expected one of: " + ", ".join(options)
    return f"; expected one of {len(options)} names, e.g. " + ", ".join(options[:5])
