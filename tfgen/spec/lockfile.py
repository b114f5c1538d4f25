"""tfgen.lock.json: the accounts each Organizations target resolved to, so renders work offline.

`tfgen lock` writes it (through the Organizations API); every other command only reads it. The file
is deterministic (keys sorted, accounts sorted by id) so a change in the organisation shows up as a
small, reviewable diff.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tfgen import limits
from tfgen.constants import LOCK_FILE
from tfgen.spec.document import MAX_BYTES
from tfgen.spec.issues import Issue, SpecError
from tfgen.spec.model import Endpoint, Spec

LOCK_VERSION = 1
ORGANIZATION = "organization"  # the target key of `organization: true`
OU_PATTERN = r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$"
_OU = re.compile(OU_PATTERN)
_ACCOUNT_ID = re.compile(limits.ACCOUNT_ID_PATTERN)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_COMMENT = "Written by `tfgen lock`; commit it. `tfgen lock --refresh` re-reads AWS Organizations."


@dataclass(frozen=True, slots=True)
class LockedAccount:
    """One account an Organizations target resolved to."""

    id: str
    name: str  # the account's name in AWS Organizations
    spec_name: str  # the name tfgen uses for it (a key of the spec's `accounts`)
    partition: str


@dataclass(frozen=True, slots=True)
class OrgLock:
    """The contents of tfgen.lock.json: the accounts of each Organizations target (not the
    directory lock of a rendered tree, tfgen.dirlock, nor Terraform's state lock)."""

    organization_id: str | None
    accounts: Mapping[str, LockedAccount]  # by account id
    targets: Mapping[str, tuple[str, ...]]  # target key → account ids, sorted

    def to_json(self) -> dict[str, Any]:
        return {
            "_comment": _COMMENT,
            "lock_version": LOCK_VERSION,
            "organization_id": self.organization_id,
            "accounts": {
                i: {"name": a.name, "spec_name": a.spec_name, "partition": a.partition}
                for i, a in sorted(self.accounts.items())
            },
            "targets": {k: sorted(ids) for k, ids in sorted(self.targets.items())},
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def target_key(endpoint: Endpoint) -> str | None:
    """The lock's key of an Organizations endpoint, or None for a plain account endpoint."""
    if endpoint.account is not None:
        return None
    if endpoint.organizational_unit is not None:
        return endpoint.organizational_unit
    return ORGANIZATION if endpoint.organization else None


def uses_organizations(spec: Spec) -> bool:
    return any(target_key(e) is not None for r in spec.replication for e in (r.from_, *r.to))


def lock_path(spec_file: str | Path) -> Path:
    return Path(spec_file).parent / LOCK_FILE


def lock_for(spec: Spec, spec_file: str | Path) -> OrgLock | None:
    """The lock beside the spec file, read only when the spec has Organizations targets."""
    return read_lock(lock_path(spec_file)) if uses_organizations(spec) else None


def read_lock(path: Path) -> OrgLock | None:
    """The lock at `path`, or None if there is none. A malformed lock is a SpecError naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise _error(path, f"cannot read the lock file: {exc}") from None
    if len(text) > MAX_BYTES:
        raise _error(path, f"the lock file is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    try:
        data = json.loads(text)
    except RecursionError:  # the C decoder gives up on deep nesting; no lock file is deep
        raise _error(
            path, "the lock file is nested too deeply; run 'tfgen lock --refresh'"
        ) from None
    except json.JSONDecodeError as exc:
        raise SpecError(
            [
                Issue(
                    (),
                    f"the lock file is not valid JSON ({exc.msg}); "
                    "run 'tfgen lock --refresh' to rewrite it",
                    line=exc.lineno,
                    column=exc.colno,
                    file=str(path),
                )
            ]
        ) from None
    return parse_lock(data, str(path))


def parse_lock(data: Any, file: str) -> OrgLock:
    if not isinstance(data, dict) or data.get("lock_version") != LOCK_VERSION:
        version = data.get("lock_version") if isinstance(data, dict) else None
        raise _error(
            file,
            f"lock_version {version!r} is not supported; this tfgen reads version {LOCK_VERSION}. "
            "Run 'tfgen lock --refresh' to rewrite it",
        )
    accounts_data = data.get("accounts")
    targets_data = data.get("targets")
    if not isinstance(accounts_data, dict) or not isinstance(targets_data, dict):
        raise _error(file, "the lock file needs 'accounts' and 'targets' mappings")
    org = data.get("organization_id")
    accounts = {i: _parse_account(i, a, file) for i, a in accounts_data.items()}
    seen: dict[str, str] = {}
    for account in accounts.values():
        if account.spec_name in seen:
            raise _error(
                file,
                f"accounts {seen[account.spec_name]} and {account.id} share the spec_name "
                f"'{account.spec_name}'; names must be unique",
                ("accounts", account.id, "spec_name"),
            )
        seen[account.spec_name] = account.id
    targets: dict[str, tuple[str, ...]] = {}
    for key, ids in targets_data.items():
        if key != ORGANIZATION and not _OU.fullmatch(str(key)):
            raise _error(file, f"unknown target {key!r}", ("targets", key))
        if not isinstance(ids, list) or not all(isinstance(i, str) and i in accounts for i in ids):
            raise _error(file, "every account id of a target must be listed under 'accounts'")
        targets[key] = tuple(sorted(ids))
    return OrgLock(org if isinstance(org, str) else None, accounts, targets)


def _parse_account(account_id: Any, data: Any, file: str) -> LockedAccount:
    where = ("accounts", str(account_id))
    if not isinstance(account_id, str) or not _ACCOUNT_ID.fullmatch(account_id):
        raise _error(file, f"{account_id!r} is not a 12-digit account id", where)
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), str) for k in ("name", "spec_name", "partition")
    ):
        raise _error(
            file, "an account needs the strings 'name', 'spec_name' and 'partition'", where
        )
    if not _NAME.fullmatch(data["spec_name"]):
        raise _error(
            file,
            f"spec_name {data['spec_name']!r} must be lowercase letters, digits, '-' or '_'",
            (*where, "spec_name"),
        )
    return LockedAccount(account_id, data["name"], data["spec_name"], data["partition"])


def _error(file: str | Path, message: str, path: tuple[str, ...] = ()) -> SpecError:
    return SpecError([Issue(path, message, file=str(file))])


__all__ = [
    "LOCK_FILE",
    "ORGANIZATION",
    "OU_PATTERN",
    "LockedAccount",
    "OrgLock",
    "lock_for",
    "lock_path",
    "parse_lock",
    "read_lock",
    "target_key",
    "uses_organizations",
]
