"""Terraform version constraints (`>= 5.61, < 7.0`): parse them, and narrow one to the versions that
have the features a stack uses.

The grammar is Terraform's for `required_providers` (hashicorp/go-version operators): comma-separated
clauses, each an optional operator (`=`, `!=`, `>`, `>=`, `<`, `<=`, `~>`) and a version of one to
three numbers. A missing minor or patch number is 0; `~> 1.2` admits 1.2 up to (not including) 2.0,
`~> 1.2.3` admits 1.2.3 up to 1.3.0. Pre-releases are refused: tfgen pins released providers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

Version = tuple[int, int, int]
_CLAUSE = re.compile(r"\s*(=|!=|>=|<=|>|<|~>)?\s*([0-9]+(?:\.[0-9]+){0,2})\s*")
_PRERELEASE = re.compile(r"[0-9]+(?:\.[0-9]+){0,2}-\S+")


class ConstraintError(ValueError):
    """A constraint Terraform would not parse (or tfgen does not support)."""


@dataclass(frozen=True, slots=True)
class Clause:
    op: str
    version: Version
    parts: int  # how many numbers were written (for ~>)

    def admits(self, v: Version) -> bool:
        op, bound = self.op, self.version
        if op == "~>":
            upper = (bound[0] + 1, 0, 0) if self.parts <= 2 else (bound[0], bound[1] + 1, 0)
            return bound <= v < upper
        return {
            "=": v == bound,
            "!=": v != bound,
            ">": v > bound,
            ">=": v >= bound,
            "<": v < bound,
            "<=": v <= bound,
        }[op]


def format_version(v: Version) -> str:
    return ".".join(map(str, v))


def parse_version(text: str) -> Version:
    major, minor, patch = [*(int(n) for n in text.split(".")), 0, 0][:3]
    return major, minor, patch


def parse(text: str) -> tuple[Clause, ...]:
    if not text.strip():
        raise ConstraintError("a version constraint must not be empty; write e.g. '>= 5.61, < 7.0'")
    clauses = []
    for raw in text.split(","):
        match = _CLAUSE.fullmatch(raw)
        if match is None:
            if _PRERELEASE.search(raw):
                raise ConstraintError(
                    f"{raw.strip()!r}: pre-release versions are not supported; pin released ones"
                )
            raise ConstraintError(
                f"{raw.strip()!r} is not a version constraint; write an operator (=, !=, >, >=, "
                "<, <=, ~>) and a version, e.g. '>= 5.61, < 7.0'"
            )
        version = match.group(2)
        clauses.append(
            Clause(match.group(1) or "=", parse_version(version), version.count(".") + 1)
        )
    return tuple(clauses)


def admits(clauses: tuple[Clause, ...], v: Version) -> bool:
    return all(c.admits(v) for c in clauses)


def _candidates(clauses: tuple[Clause, ...], minimum: Version) -> set[Version]:
    """Every admitted set is a union of ranges that start at 0.0.0, at a bound, or just after one;
    testing those points (and the minimum) decides what the constraint admits."""
    out = {(0, 0, 0), minimum}
    for c in clauses:
        major, minor, patch = c.version
        out |= {c.version, (major, minor, patch + 1), (major, minor + 1, 0), (major + 1, 0, 0)}
    return out


def admits_at_least(clauses: tuple[Clause, ...], minimum: Version) -> bool:
    """Whether some version >= `minimum` satisfies every clause."""
    return any(v >= minimum and admits(clauses, v) for v in _candidates(clauses, minimum))


def only_at_least(clauses: tuple[Clause, ...], minimum: Version) -> bool:
    """Whether every version the clauses admit is >= `minimum`."""
    return not any(v < minimum and admits(clauses, v) for v in _candidates(clauses, minimum))


@cache  # every stack of a render asks the same question
def narrow(text: str, minimum: Version) -> str:
    """`text` as written when it admits nothing older than `minimum`; else the same constraint with
    its lower bounds raised to `minimum`. The caller has checked that some version remains."""
    clauses = parse(text)
    if only_at_least(clauses, minimum):
        return text
    kept = [
        raw.strip()
        for raw, c in zip(text.split(","), clauses, strict=True)
        if not (c.op in (">", ">=") and c.version < minimum)
    ]
    return ", ".join([f">= {format_version(minimum)}", *kept])


__all__ = [
    "Clause",
    "ConstraintError",
    "Version",
    "admits",
    "admits_at_least",
    "format_version",
    "narrow",
    "only_at_least",
    "parse",
    "parse_version",
]
