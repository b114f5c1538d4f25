"""A spec as read: its plain data and the line and column of every path (tfgen.spec.load reads
it). Kept apart from the YAML reader, so what uses a read spec, and `read_ahead`'s parent, never
import PyYAML."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from typing import Any

from tfgen.spec.issues import Issue, Severity, SpecPath

MAX_BYTES = 8 * 1024 * 1024  # a 1,000-account spec is ~150 KiB
MAX_DEPTH = 32  # the deepest spec path (an IAM condition's value list) is 10 levels


@dataclass(slots=True, eq=False)
class Positions:
    """Line and column (1-based) of each path; a missing path falls back to its nearest parent."""

    file: str
    marks: dict[SpecPath, tuple[int, int]] = field(default_factory=dict)
    # How YAML read a scalar that does not print back as written, by path (see _note).
    notes: dict[SpecPath, str] = field(default_factory=dict)
    # The marks under each top-level key as `read_ahead`'s child sent them, still pickled: most
    # reads never need them, and unpickling them all cost 20-40 ms at 1,000 accounts.
    later: dict[Any, bytes] = field(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        """Equal when they place every path alike, however much of it is still pickled."""
        if not isinstance(other, Positions) or type(other) is not type(self):
            return NotImplemented
        mine = (self.file, self.all_marks(), self.notes)
        return mine == (other.file, other.all_marks(), other.notes)

    def all_marks(self) -> dict[SpecPath, tuple[int, int]]:
        for key in list(self.later):
            self._unfold(key)
        return self.marks

    def _unfold(self, key: Any) -> None:
        group = self.later.pop(key, None)
        if group is not None:
            self.marks.update(pickle.loads(group))  # our child's, not the spec's: see read_ahead

    def locate(self, path: SpecPath) -> tuple[int | None, int | None]:
        if self.later and path:
            self._unfold(path[0])
        probe = tuple(path)
        while True:
            mark = self.marks.get(probe)
            if mark is not None:
                return mark
            if not probe:
                return None, None
            probe = probe[:-1]

    def issue(self, issue: Issue) -> Issue:
        """The issue with this file's name and the line of its path filled in; an error about a
        value YAML read as a boolean or number says so, and how to quote it."""
        line, column = self.locate(issue.path)
        message = issue.message
        note = self.notes.get(tuple(issue.path)) if issue.severity is Severity.ERROR else None
        if note is not None:
            message = f"{message}; {note}"
        return Issue(issue.path, message, issue.severity, line, column, self.file)


@dataclass(frozen=True, slots=True)
class Document:
    data: Any
    positions: Positions
