"""Organizations targets → plain accounts, from the lock file. Pure: no I/O, no AWS calls.

A `from`/`to` endpoint `{organizational_unit: ou-..., regions}` or `{organization: true, regions}`
becomes one endpoint per account the lock lists for it; a `from` that is such a target makes one
replication entry per account. Accounts the spec does not list are added under the name the lock
gives them, with `defaults.role_arn`. Issues found later still point at the line the user wrote:
the returned positions map every expanded path back to its original one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TypeVar

from tfgen.spec.document import Positions
from tfgen.spec.issues import Issue, Severity, SpecPath
from tfgen.spec.lockfile import LOCK_FILE, ORGANIZATION, OrgLock, target_key, uses_organizations
from tfgen.spec.model import Account, Endpoint, Replication, Spec

_Origin = tuple[SpecPath, str | None]  # original path, and a note saying which account it became


@dataclass(slots=True)
class ExpandedPositions(Positions):
    """Positions of an expanded spec: issues get the line, path and a note of what was written."""

    origins: dict[SpecPath, _Origin] = field(default_factory=dict)

    def issue(self, issue: Issue) -> Issue:
        if issue.file is not None:  # located already, against the spec as written
            return issue
        located = Positions.issue(self, issue)  # zero-argument super() fails in slotted dataclasses
        for n in range(len(issue.path), 0, -1):
            origin = self.origins.get(issue.path[:n])
            if origin is not None:
                old, note = origin
                message = f"{located.message} ({note})" if note else located.message
                return replace(located, path=(*old, *issue.path[n:]), message=message)
        return located


def describe_target(key: str) -> str:
    return "organization: true" if key == ORGANIZATION else f"organizational_unit {key}"


@dataclass(slots=True)
class _Expansion:
    spec: Spec
    lock: OrgLock
    issues: list[Issue] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # account id → spec name
    added: dict[str, Account] = field(default_factory=dict)

    def accounts_of(self, key: str, path: SpecPath) -> list[str] | None:
        """Spec names of the accounts a target resolved to; None (and an error) if not locked."""
        ids = self.lock.targets.get(key)
        if ids is None:
            self.issues.append(
                Issue(
                    path,
                    f"{describe_target(key)} is not in {LOCK_FILE}; run 'tfgen lock' to resolve it",
                )
            )
            return None
        if not ids:
            self.issues.append(
                Issue(
                    path,
                    f"{describe_target(key)} has no active accounts ({LOCK_FILE}), so it adds nothing",
                    Severity.WARNING,
                )
            )
        return [n for n in (self.name_of(i, path) for i in ids) if n is not None]

    def name_of(self, account_id: str, path: SpecPath) -> str | None:
        if account_id in self.names:
            return self.names[account_id]
        listed = next((n for n, a in self.spec.accounts.items() if a.id == account_id), None)
        locked = self.lock.accounts[account_id]
        if listed is None and locked.spec_name in self.spec.accounts:
            self.issues.append(
                Issue(
                    path,
                    f"{LOCK_FILE} names account {account_id} ('{locked.name}') "
                    f"'{locked.spec_name}', but accounts.{locked.spec_name} is another account; "
                    "run 'tfgen lock --refresh' to rename it",
                )
            )
            return None
        name = listed or locked.spec_name
        if listed is None:
            self.added[name] = Account(id=account_id, partition=locked.partition)
        self.names[account_id] = name
        return name


def expand_targets(
    spec: Spec, lock: OrgLock | None, positions: Positions
) -> tuple[Spec, Positions, list[Issue]]:
    """The spec with every Organizations endpoint replaced by account endpoints.

    Returns the expanded spec, positions that map its paths back to the file, and the issues of
    the expansion itself (already located). Without a lock the spec is returned as is:
    check_spec then tells the user to run `tfgen lock`.
    """
    if lock is None or not uses_organizations(spec):
        return spec, positions, []
    work = _Expansion(spec, lock)
    entries: list[Replication] = []
    origins: dict[SpecPath, _Origin] = {}
    for i, entry in enumerate(spec.replication):
        base: SpecPath = ("replication", i)
        targets: list[tuple[Endpoint, int, str | None]] = []
        reported = len(work.issues)
        for j, endpoint in enumerate(entry.to):
            targets.extend((e, j, note) for e, note in _expand(work, endpoint, (*base, "to", j)))
        sources = _expand(work, entry.from_, (*base, "from"))
        if not targets and entry.to:
            if len(work.issues) == reported or all(
                i.severity is Severity.WARNING for i in work.issues[reported:]
            ):
                work.issues.append(
                    Issue((*base, "to"), "no destination account: every target here is empty")
                )
            continue
        for source, note in sources:
            k = len(entries)
            name = entry.name
            if name is not None and note is not None:
                name = f"{name}/{source.account}"
            entries.append(
                entry.model_copy(
                    update={"from_": source, "to": [t for t, _, _ in targets], "name": name}
                )
            )
            origins[("replication", k)] = (base, note)
            origins[("replication", k, "from")] = ((*base, "from"), note)
            for m, (_, j, to_note) in enumerate(targets):
                origins[("replication", k, "to", m)] = ((*base, "to", j), to_note)
    if work.added and spec.defaults.role_arn is None:
        work.issues.append(
            Issue(
                ("defaults",),
                f"accounts from Organizations ({', '.join(sorted(work.added))}) have no role_arn: "
                "set defaults.role_arn (e.g. 'arn:aws:iam::{account_id}:role/NAME'), or tfgen "
                "and Terraform use the ambient credentials for them",
                Severity.WARNING,
            )
        )
    accounts = {**spec.accounts, **dict(sorted(work.added.items()))}
    expanded = spec.model_copy(update={"replication": entries, "accounts": accounts})
    # The expansion's own issues have paths as written: locate them before the remap.
    issues = [positions.issue(i) for i in work.issues]
    return expanded, _remap(positions, origins), issues


def _expand(
    work: _Expansion, endpoint: Endpoint, path: SpecPath
) -> list[tuple[Endpoint, str | None]]:
    key = target_key(endpoint)
    if key is None:
        return [(endpoint, None)]
    what = describe_target(key)
    names = work.accounts_of(key, (*path, "organizational_unit" if key != ORGANIZATION else key))
    if names is None:
        return []
    return [
        (
            Endpoint(account=name, regions=list(endpoint.regions)),
            f"account '{name}' of {what}",
        )
        for name in names
    ]


def _remap(positions: Positions, origins: dict[SpecPath, _Origin]) -> ExpandedPositions:
    """Marks (and notes) of the expanded paths, copied from the paths they came from."""
    return ExpandedPositions(
        positions.file,
        _moved(positions.all_marks(), origins),
        _moved(positions.notes, origins),
        origins=dict(origins),
    )


_T = TypeVar("_T")


def _moved(by_path: dict[SpecPath, _T], origins: dict[SpecPath, _Origin]) -> dict[SpecPath, _T]:
    out = {p: m for p, m in by_path.items() if p[:1] != ("replication",) or len(p) == 1}
    # Shorter paths first: an endpoint's own marks then replace those copied with its entry.
    for new, (old, _) in sorted(origins.items(), key=lambda item: len(item[0])):
        for path in [p for p in out if p[: len(new)] == new]:
            del out[path]
        out.update(
            ((*new, *path[len(old) :]), mark)
            for path, mark in by_path.items()
            if path[: len(old)] == old
        )
    return out


def slug(name: str) -> str:
    """An Organizations account name as a spec account name ('' when nothing usable is left)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9_-]+", "-", ascii_name.lower())
    text = re.sub(r"^[^a-z0-9]+", "", text)[:63]
    return text.rstrip("-_")


def assign_names(
    accounts: Mapping[str, str], spec: Spec, previous: Mapping[str, str]
) -> dict[str, str]:
    """Spec names for Organizations accounts (id → Organizations name); deterministic.

    An account the spec lists keeps its spec name; one named before (`previous`, from the old lock)
    keeps that name, so a rename in Organizations does not move its stacks and Terraform state;
    a new one gets its slugged Organizations name, or `acct-<id>` if that is empty or taken.
    """
    listed = {a.id: name for name, a in spec.accounts.items()}
    names = {i: listed[i] for i in accounts if i in listed}
    taken = set(spec.accounts)
    for account_id in sorted(accounts):
        old = previous.get(account_id)
        if account_id not in names and old is not None and old not in taken:
            names[account_id] = old
            taken.add(old)
    for account_id in sorted(accounts):
        if account_id in names:
            continue
        name = slug(accounts[account_id])
        if not name or name in taken:
            name = f"acct-{account_id}"
        names[account_id] = name
        taken.add(name)
    return names


__all__ = ["ExpandedPositions", "assign_names", "describe_target", "expand_targets", "slug"]
