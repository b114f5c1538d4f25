"""`tfgen import` end to end: check the options, read the registries, write the YAML, and compile
it back to compare with what was read (the round trip)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from tfgen.aws.importer import Flow, Imported, build_spec
from tfgen.aws.live import TEMPLATES_UNSUPPORTED, LiveRegistry, read_registry
from tfgen.aws.parallel import Reads, run_all
from tfgen.aws.sessions import Sessions
from tfgen.aws.verify import compare
from tfgen.compile import compile_loaded
from tfgen.errors import TfgenError
from tfgen.spec import SpecError, load_spec_text, placeholders
from tfgen.spec import regions as known_regions
from tfgen.state import AccountState

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_ID = re.compile(r"^[0-9]{12}$")


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What `tfgen import` produced: the spec text and everything to tell the user about it."""

    text: str  # the spec, as YAML
    notes: tuple[str, ...]  # what compiling it will not reproduce exactly, and why
    differences: tuple[str, ...]  # the round trip's findings (empty: exact up to semantics)
    warnings: tuple[str, ...]  # the spec's own warnings (formatted issues)
    errors: tuple[str, ...]  # the spec's errors, if it does not compile (a limit spec v1 has)
    registries: int  # live registries that hold any replication setting


def parse_accounts(pairs: Sequence[str]) -> dict[str, str]:
    accounts: dict[str, str] = {}
    for pair in pairs:
        name, sep, account_id = pair.partition("=")
        if not sep or not _NAME.fullmatch(name) or not _ID.fullmatch(account_id):
            raise TfgenError(
                f"--account {pair!r}: write NAME=ID, e.g. prod=222222222222 (NAME: lowercase "
                "letters, digits, '-' or '_'; ID: 12 digits)"
            )
        if name in accounts or account_id in accounts.values():
            raise TfgenError(f"--account {pair!r}: that name or id is given twice")
        accounts[name] = account_id
    if not accounts:
        raise TfgenError("give at least one --account NAME=ID")
    return accounts


def parse_regions(text: str) -> tuple[list[str], str]:
    """The Regions and their partition; all in one partition, each one where ECR exists."""
    regions = [r.strip() for r in text.split(",") if r.strip()]
    if not regions:
        raise TfgenError("--regions: give at least one Region, e.g. --regions us-east-1,eu-west-1")
    partitions = set()
    for region in regions:
        partition = known_regions.partition_of(region)
        if partition is None:
            raise TfgenError(f"--regions: {region!r} is not a Region where ECR is available")
        partitions.add(partition)
    if len(partitions) > 1:
        raise TfgenError(f"--regions: the Regions span partitions {', '.join(sorted(partitions))}")
    return list(dict.fromkeys(regions)), partitions.pop()


def account_states(
    accounts: dict[str, str], role_arn: str | None, partition: str
) -> dict[str, AccountState]:
    return {
        name: AccountState(name, account_id, partition, _role(role_arn, name, account_id))
        for name, account_id in accounts.items()
    }


def _role(template: str | None, name: str, account_id: str) -> str | None:
    if template is None:
        return None
    if placeholders.problem(template, ("account", "account_id")) is not None:
        raise TfgenError(
            f"--role-arn {template!r}: the only placeholders are {{account_id}} and {{account}}"
        )
    role = placeholders.fill(template, {"account": name, "account_id": account_id})
    if not re.fullmatch(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+", role):
        raise TfgenError(
            f"--role-arn {template!r} gives {role!r}, not a role ARN like "
            "'arn:aws:iam::{account_id}:role/NAME'"
        )
    return role


class _Dumper(yaml.SafeDumper):
    pass


def _flow(dumper: yaml.SafeDumper, data: Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)


_Dumper.add_representer(Flow, _flow)


def to_yaml(imported: Imported, accounts: dict[str, str], regions: list[str]) -> str:
    header = (
        "# Written by `tfgen import` from the live registries of "
        f"{', '.join(accounts)} in {', '.join(regions)}.\n"
        "# `tfgen compile` of this file gives what was read; `tfgen verify` checks it.\n"
    )
    body: Any = yaml.dump(
        imported.data,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
    )
    return header + str(body)


def run_import(
    sessions: Sessions,
    accounts: dict[str, str],
    regions: list[str],
    *,
    role_arn: str | None,
    partition: str,
    reads: Reads,
) -> ImportResult:
    keys = [(name, region) for name in accounts for region in regions]
    found = run_all(
        lambda k: read_registry(sessions, k[0], k[1], templates=True), keys, reads, "registries"
    )
    failed = [str(f) for f in found if isinstance(f, TfgenError)]
    if failed:
        raise TfgenError("cannot read every registry:\n  " + "\n  ".join(failed))
    live = [f for f in found if isinstance(f, LiveRegistry)]
    imported = build_spec(accounts, live, role_arn=role_arn, partition=partition)
    text = to_yaml(imported, accounts, regions)
    differences, warnings, errors = round_trip(text, live)
    return ImportResult(
        text,
        imported.notes,
        differences,
        warnings,
        errors,
        sum(1 for r in live if not r.is_empty()),
    )


def round_trip(
    text: str, live: Sequence[LiveRegistry]
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Compile the written spec and compare it with what was read.

    Returns the differences, the spec's warnings and, if it does not compile, its errors.
    """
    try:
        state = compile_loaded(load_spec_text(text, "<imported spec>"))
    except SpecError as exc:
        return (), (), tuple(i.format() for i in exc.issues)
    compiled = {(r.account, r.region): r for r in state.registries}
    out: list[str] = []
    for registry in live:
        desired = compiled.pop((registry.account, registry.region), None)
        if desired is None:
            if not registry.is_empty():
                out.append(f"{registry.label}: the spec does not manage this registry")
            continue
        verdict = compare(desired, registry)
        out.extend(f"{registry.label}: {d.format()}" for d in verdict.differences)
        out.extend(f"{registry.label}: {n}" for n in verdict.notes if n != TEMPLATES_UNSUPPORTED)
    # Left over: a grant for a registry that has no policy yet.
    out.extend(f"{d.label}: the spec adds settings the registry lacks" for d in compiled.values())
    return tuple(out), tuple(w.format() for w in state.warnings), ()


__all__ = [
    "ImportResult",
    "account_states",
    "parse_accounts",
    "parse_regions",
    "round_trip",
    "run_import",
    "to_yaml",
]
