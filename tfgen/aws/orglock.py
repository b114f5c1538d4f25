"""`tfgen lock`: resolve the spec's Organizations targets and write tfgen.lock.json beside it.

Without --refresh only targets missing from the lock are resolved, so a lock stays as reviewed
until someone asks for the organisation's current state. Targets the spec no longer uses are
dropped. The result says which accounts each target gained or lost.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from tfgen.aws.organizations import OrgAccount, organization_id, resolve
from tfgen.aws.parallel import Progress
from tfgen.errors import TfgenError
from tfgen.spec.issues import Issue, SpecError
from tfgen.spec.load import load_file
from tfgen.spec.lockfile import (
    OU_PATTERN,
    LockedAccount,
    OrgLock,
    lock_path,
    read_lock,
    target_key,
)
from tfgen.spec.model import Spec, pydantic_issues
from tfgen.spec.targets import assign_names

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient


@dataclass(frozen=True, slots=True)
class TargetChange:
    """The accounts one Organizations target gained, lost or renamed since the lock was written."""

    target: str
    added: tuple[LockedAccount, ...]
    removed: tuple[LockedAccount, ...]
    renamed: tuple[tuple[LockedAccount, LockedAccount], ...]  # (before, after)


@dataclass(frozen=True, slots=True)
class LockResult:
    """What `tfgen lock` did: the lock file, its contents, and what changed."""

    path: Path
    lock: OrgLock | None  # None when the spec has no Organizations targets
    changes: tuple[TargetChange, ...]
    written: bool


def spec_targets(spec_file: Path) -> tuple[Spec, tuple[str, ...]]:
    """The spec (shape-checked only) and its Organizations target keys, in order of appearance."""
    document = load_file(spec_file)
    try:
        spec = Spec.model_validate(document.data)
    except ValidationError as exc:
        raise SpecError(
            [document.positions.issue(i) for i in pydantic_issues(exc.errors())]
        ) from None
    keys: dict[str, None] = {}
    issues: list[Issue] = []
    for i, entry in enumerate(spec.replication):
        ends = [("from",), *(("to", j) for j in range(len(entry.to)))]
        for where, endpoint in zip(ends, (entry.from_, *entry.to), strict=True):
            key = target_key(endpoint)
            if key is None:
                continue
            if endpoint.organizational_unit is not None and not re.fullmatch(OU_PATTERN, key):
                path = ("replication", i, *where, "organizational_unit")
                issues.append(
                    document.positions.issue(
                        Issue(path, f"{key!r} is not an OU id like 'ou-ab12-cdef3456'")
                    )
                )
                continue
            keys.setdefault(key, None)
    if issues:
        raise SpecError(issues)
    return spec, tuple(keys)


def build_lock(
    spec: Spec,
    previous: OrgLock | None,
    resolved: Mapping[str, tuple[OrgAccount, ...]],
    org_id: str | None,
) -> OrgLock:
    """The lock for these resolved targets; pure, so the same inputs give the same bytes."""
    found: dict[str, OrgAccount] = {a.id: a for accounts in resolved.values() for a in accounts}
    before = {i: a.spec_name for i, a in previous.accounts.items()} if previous else {}
    names = assign_names({i: a.name for i, a in found.items()}, spec, before)
    accounts = {
        i: LockedAccount(i, a.name, names[i], a.partition) for i, a in sorted(found.items())
    }
    targets = {k: tuple(sorted(a.id for a in v)) for k, v in sorted(resolved.items())}
    return OrgLock(org_id, accounts, targets)


def diff(old: OrgLock | None, new: OrgLock) -> tuple[TargetChange, ...]:
    old_targets = old.targets if old else {}
    old_accounts = old.accounts if old else {}
    changes = []
    for key in sorted(set(old_targets) | set(new.targets)):
        before = set(old_targets.get(key, ()))
        after = set(new.targets.get(key, ()))
        renamed = tuple(
            (old_accounts[i], new.accounts[i])
            for i in sorted(before & after)
            if old_accounts[i].spec_name != new.accounts[i].spec_name
        )
        change = TargetChange(
            key,
            tuple(new.accounts[i] for i in sorted(after - before)),
            tuple(old_accounts[i] for i in sorted(before - after)),
            renamed,
        )
        if change.added or change.removed or change.renamed:
            changes.append(change)
    return tuple(changes)


def update_lock(
    spec_file: Path,
    *,
    refresh: bool,
    client: Callable[[], OrganizationsClient],
    progress: Progress | None = None,
) -> LockResult:
    """Resolve what needs resolving, write the lock if it changed, and say what changed."""
    spec, keys = spec_targets(spec_file)
    path = lock_path(spec_file)
    try:
        previous = read_lock(path)
    except SpecError:
        if not refresh:
            raise
        previous = None  # --refresh rewrites a broken lock from scratch
    if not keys:
        return LockResult(path, None, (), False)
    kept = {} if refresh or previous is None else previous.targets
    resolved: dict[str, tuple[OrgAccount, ...]] = {}
    org_id = previous.organization_id if previous else None
    pending = [k for k in keys if k not in kept]
    if pending:
        api = client()
        org_id = organization_id(api)
        if progress is not None:
            progress.add(len(pending), "Organizations targets")
        for key in pending:
            resolved[key] = resolve(api, key)
            if progress is not None:
                progress.advance()
    if previous is not None:
        for key in keys:
            if key in kept:
                resolved[key] = tuple(
                    OrgAccount(i, previous.accounts[i].name, previous.accounts[i].partition)
                    for i in kept[key]
                )
    lock = build_lock(spec, previous, resolved, org_id)
    text = lock.dumps()
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if text != current:
        write_atomic(path, text)
    return LockResult(path, lock, diff(previous, lock), text != current)


def write_atomic(path: Path, text: str) -> None:
    """Write beside the target and rename over it, so a reader never sees half a lock."""
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        Path(tmp).replace(path)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise TfgenError(f"cannot write {path}: {exc}") from None


__all__ = ["LockResult", "TargetChange", "build_lock", "diff", "spec_targets", "update_lock"]
