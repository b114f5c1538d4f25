"""Build tfgen specs in tests: as plain data, and as YAML text whose line numbers are predictable.

`to_yaml` writes one account per line and one replication entry per line (JSON flow style, which
is valid YAML), so a test can find the line of any entry by searching the text (`line_of`) instead
of asking the loader under test.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

Spec = dict[str, Any]

# Regions of the aws partition where ECR exists (a subset, enough for every generated spec).
AWS_REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "sa-east-1",
)
CN_REGIONS = ("cn-north-1", "cn-northwest-1")


def account_id(n: int) -> str:
    """A distinct, valid 12-digit account id for each n (n < 9 * 10**10)."""
    return f"{100_000_000_000 + n:012d}"


def accounts(n: int, prefix: str = "a", start: int = 0) -> dict[str, dict[str, str]]:
    return {f"{prefix}{i}": {"id": account_id(start + i)} for i in range(n)}


def entry(
    src: str,
    src_regions: Sequence[str],
    *targets: tuple[str, Sequence[str]],
    filters: Sequence[str] | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if name is not None:
        out["name"] = name
    out["from"] = {"account": src, "regions": list(src_regions)}
    out["to"] = [{"account": a, "regions": list(r)} for a, r in targets]
    if filters is not None:
        out["filters"] = list(filters)
    return out


def spec(
    accts: dict[str, dict[str, Any]],
    replication: Iterable[dict[str, Any]] = (),
    **extra: Any,
) -> Spec:
    out: Spec = {"version": 1, "accounts": accts, "replication": list(replication)}
    out.update(extra)
    return out


def to_yaml(data: Spec, header: Sequence[str] = ()) -> str:
    """YAML text: top-level keys in block style, one account / list item per line."""
    lines = [f"# {h}" for h in header]
    for key, value in data.items():
        if isinstance(value, dict) and value:
            lines.append(f"{key}:")
            lines.extend(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in value.items())
        elif isinstance(value, list) and value:
            lines.append(f"{key}:")
            lines.extend(f"  - {json.dumps(v)}" for v in value)
        else:
            lines.append(f"{key}: {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def write(path: Path, data: Spec) -> Path:
    path.write_text(to_yaml(data), encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the only line of text that contains needle."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    if len(hits) != 1:
        raise AssertionError(f"{needle!r} is on lines {hits}, expected exactly one")
    return hits[0]


# ---- specs that break one limit each -------------------------------------------------------


def too_many_rules(rules: int = 11) -> Spec:
    """One source registry (hub/us-east-1) with `rules` entries, each to a distinct own Region."""
    return spec(
        {"hub": {"id": account_id(0)}},
        [
            entry("hub", ["us-east-1"], ("hub", [AWS_REGIONS[1 + i]]), name=f"rule-{i:02d}")
            for i in range(rules)
        ],
    )


def many_destinations(per_rule: Sequence[int]) -> Spec:
    """hub/us-east-1 with one rule per item of per_rule; rule k reaches per_rule[k] destinations,
    all distinct across rules: (account, Region) pairs over accounts d0, d1, ... in 2 Regions."""
    total = sum(per_rule)
    n_accounts = (total + 1) // 2
    accts = {"hub": {"id": account_id(0)}, **accounts(n_accounts, "d", start=1)}
    pairs = [(f"d{i}", region) for i in range(n_accounts) for region in ("us-east-1", "eu-west-1")]
    entries = []
    taken = 0
    for k, count in enumerate(per_rule):
        mine = pairs[taken : taken + count]
        taken += count
        targets: dict[str, list[str]] = {}
        for acct, region in mine:
            targets.setdefault(acct, []).append(region)
        entries.append(entry("hub", ["us-east-1"], *targets.items(), name=f"fan-{k}"))
    return spec(accts, entries)


def many_filters(count: int) -> Spec:
    """One rule with `count` distinct filters, none a prefix of another."""
    return spec(
        {"hub": {"id": account_id(0)}},
        [
            entry(
                "hub",
                ["us-east-1"],
                ("hub", ["us-west-2"]),
                filters=[f"team-{i:03d}" for i in range(count)],
                name="filtered",
            )
        ],
    )


def fan_in(sources: int) -> Spec:
    """`sources` accounts each replicating to sink/us-east-1: the sink's policy grants them all."""
    accts = {"sink": {"id": account_id(0)}, **accounts(sources, "s", start=1)}
    return spec(
        accts,
        [
            entry(f"s{i}", ["us-east-1"], ("sink", ["us-east-1"]), name=f"in-{i:03d}")
            for i in range(sources)
        ],
    )


def mesh(names: Sequence[str], regions: Sequence[str]) -> Spec:
    """Every registry of every account replicates to every other registry: all-to-all."""
    accts = {n: {"id": account_id(i)} for i, n in enumerate(names)}
    targets = [(n, list(regions)) for n in names]
    return spec(accts, [entry(n, regions, *targets, name=f"mesh-{n}") for n in names])
