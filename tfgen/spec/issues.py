"""Problems found in a spec: where (file, line, path), what rule, and what would be right."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from tfgen.errors import TfgenError
from tfgen.words import plural

PathPart = str | int
SpecPath = tuple[PathPart, ...]


class Severity(StrEnum):
    """An error stops the command; a warning is printed and the command goes on."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in a spec: where (path, and file:line:column once located) and what is wrong."""

    path: SpecPath
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
        super().__init__(f"{plural(len(errors), 'error')} in the spec")

    def format(self) -> str:
        return "\n".join(i.format() for i in self.issues)


def format_path(path: SpecPath) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif out:
            out += f".{part}"
        else:
            out = part
    return out


def _distance(a: str, b: str) -> int:
    """Edit distance counting a swap of two neighbouring letters as one edit (Damerau)."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def did_you_mean(value: object, candidates: Iterable[str]) -> str:
    """'; did you mean 'x'?' for the closest candidate(s), or a short list of what is allowed."""
    options = sorted(set(candidates))
    text = str(value)
    if options:
        scored = sorted((_distance(text, o), o) for o in options)
        best = scored[0][0]
        if best <= max(1, len(text) // 4):
            tied = [o for d, o in scored if d == best]
            if len(tied) == 1:
                return f"; did you mean '{tied[0]}'?"
            return "; did you mean one of: " + ", ".join(f"'{o}'" for o in tied[:4]) + "?"
        starts = [o for o in options if len(text) >= 3 and o.startswith(text)]
        if len(starts) == 1:
            return f"; did you mean '{starts[0]}'?"
    close = difflib.get_close_matches(text, options, n=1, cutoff=0.75)
    if close:
        return f"; did you mean '{close[0]}'?"
    if not options:
        return ""
    if len(options) <= 8:
        return "; expected one of: " + ", ".join(options)
    return f"; expected one of {len(options)} names, e.g. " + ", ".join(options[:5])
