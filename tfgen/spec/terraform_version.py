"""Terraform version constraints (`required_version`) and the Terraform features the stacks use.

A constraint is checked as Terraform reads it (hashicorp/go-version: comma-separated `OP VERSION`,
OP one of = != > >= < <= ~>), and must not admit a Terraform that lacks a feature the rendered
stacks use: `terraform init` on such a version fails on the backend block, or later on an import
block, long after review. Without a constraint in the spec, the rendered one is `>= ` the newest
minimum of the features in use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tfgen.spec.model import Spec

Version = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class Feature:
    minimum: Version
    what: str
    source: str


IMPORT_BLOCKS = Feature(
    (1, 5, 0),
    "import blocks (written by `tfgen render --adopt`)",
    "Terraform v1.5.0 CHANGELOG: import blocks",
)
S3_ASSUME_ROLE = Feature(
    (1, 6, 0),
    "the S3 backend's `assume_role` (backend.s3.role_arn)",
    "Terraform v1.6.0 CHANGELOG: backend/s3 assume_role",
)
S3_LOCKFILE = Feature(
    (1, 10, 0),
    "the S3 backend's `use_lockfile` (backend.s3.use_lockfile, the default)",
    "Terraform v1.10.0 CHANGELOG: backend/s3 S3 native state locking",
)

_CONSTRAINT = re.compile(
    r" *(=|!=|>=|<=|>|<|~>)? *v?([0-9]+(?:\.[0-9]+)*)(-[0-9A-Za-z.~-]+)?(\+[0-9A-Za-z.~-]+)? *"
)


def features(spec: Spec) -> tuple[Feature, ...]:
    """The Terraform features the stacks of this spec use (import blocks: always, for --adopt)."""
    used = [IMPORT_BLOCKS]
    backend = spec.defaults.backend
    if backend is not None:
        if backend.s3.role_arn is not None:
            used.append(S3_ASSUME_ROLE)
        if backend.s3.use_lockfile:
            used.append(S3_LOCKFILE)
    return tuple(used)


def _text(version: Version) -> str:
    return ".".join(map(str, version))


def default_constraint(spec: Spec) -> str:
    return f">= {_text(max(f.minimum for f in features(spec)))}"


@dataclass(frozen=True, slots=True)
class _Bound:
    version: Version
    inclusive: bool


def _bounds(text: str) -> tuple[_Bound, _Bound | None]:
    """The lowest and highest version the constraint admits (None: no upper bound).

    Raises ValueError naming the part that is not a constraint. `!=` only removes single
    versions, so it leaves both bounds as they are.
    """
    lower = _Bound((0, 0, 0), True)
    upper: _Bound | None = None
    if not text.strip(" "):
        raise ValueError("an empty constraint")
    for part in text.split(","):
        match = _CONSTRAINT.fullmatch(part)
        if match is None:
            raise ValueError(f"{part.strip(' ')!r} is not a version constraint")
        if match.group(3):
            raise ValueError(
                f"{part.strip(' ')!r} has a prerelease; Terraform supports no prerelease "
                "version constraints"
            )
        op = match.group(1) or "="
        given = [int(p) for p in match.group(2).split(".")]
        version: Version = (*given, 0, 0)[:3]  # type: ignore[assignment]
        low: _Bound | None = None
        high: _Bound | None = None
        if op in ("=", ">=", "~>"):
            low = _Bound(version, True)
        elif op == ">":
            low = _Bound(version, False)
        if op in ("=", "<="):
            high = _Bound(version, True)
        elif op == "<":
            high = _Bound(version, False)
        elif op == "~>":  # ~> 1.2.3 allows 1.2.x; ~> 1.2 (and ~> 1) allow 1.x
            top = (version[0], version[1] + 1, 0) if len(given) >= 3 else (version[0] + 1, 0, 0)
            high = _Bound(top, False)
        if low is not None and (low.version, not low.inclusive) > (
            lower.version,
            not lower.inclusive,
        ):
            lower = low
        if high is not None and (
            upper is None or (high.version, high.inclusive) < (upper.version, upper.inclusive)
        ):
            upper = high
    return lower, upper


def problem(text: str, used: tuple[Feature, ...]) -> str | None:
    """Why `text` is not a usable required_version for stacks that use `used`, or None."""
    try:
        lower, upper = _bounds(text)
    except ValueError as exc:
        return (
            f"{text!r} is not a Terraform version constraint ({exc}); write e.g. "
            f"'>= {_text(max(f.minimum for f in used))}'"
        )
    if upper is not None and (
        upper.version < lower.version
        or (upper.version == lower.version and not (upper.inclusive and lower.inclusive))
    ):
        return f"{text!r} admits no Terraform version at all"
    lacking = [f for f in used if lower.version < f.minimum]
    if not lacking:
        return None
    need = max(f.minimum for f in lacking)
    missing = "; ".join(f"{f.what} needs Terraform >= {_text(f.minimum)}" for f in lacking)
    oldest = _text(lower.version) + ("" if lower.inclusive else " (exclusive)")
    return (
        f"{text!r} admits Terraform from {oldest}, older than the stacks need: {missing}. "
        f"Write '>= {_text(need)}' (or leave required_version out: tfgen then writes it)"
    )


__all__ = [
    "IMPORT_BLOCKS",
    "S3_ASSUME_ROLE",
    "S3_LOCKFILE",
    "default_constraint",
    "features",
    "problem",
]
