"""`--stacks PATTERN`: which of the manifest's stacks a command runs."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from tfgen.manifest import ManifestStack


def select(stacks: Sequence[ManifestStack], patterns: Sequence[str]) -> tuple[ManifestStack, ...]:
    """Stacks whose id matches any glob pattern (`prod/*`, `*/replication`); all when none."""
    if not patterns:
        return tuple(stacks)
    return tuple(s for s in stacks if any(fnmatch.fnmatchcase(s.id, p) for p in patterns))


def split_patterns(values: Sequence[str]) -> tuple[str, ...]:
    """`--stacks a,b --stacks c` → (a, b, c)."""
    return tuple(p.strip() for raw in values for p in raw.split(",") if p.strip())
