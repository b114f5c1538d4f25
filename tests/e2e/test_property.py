"""Property: any small valid spec (at most 4 accounts and 3 Regions, random rules, filters and
creation templates) renders stacks the real provider plans and applies; the live registries then
equal the compiled state, verify says in sync, and a second plan shows no changes. Few examples,
each a whole lifecycle; no shrinking (each step of it would be another lifecycle)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import boto3
import yaml
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import backend_config, reset
from tests.e2e.harness import STATE_BUCKET, World, normalised
from tests.moto_server import MotoAws
from tfgen import SpecError, compile_spec, spec_from_data

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
FILTERS = ("team-a/", "team-b/", "base", "shared/tools")
PREFIXES = ("ROOT", "team-a", "base")


@st.composite
def small_specs(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(2, 4))
    names = [f"acct{i}" for i in range(n)]
    accounts = {name: {"id": f"{200000000000 + i * 1111:012d}"} for i, name in enumerate(names)}
    regions = st.lists(st.sampled_from(REGIONS), min_size=1, max_size=2, unique=True)
    replication = []
    for i in range(draw(st.integers(1, 3))):
        targets = draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True))
        entry: dict[str, Any] = {
            "name": f"rule-{i}",
            "from": {"account": draw(st.sampled_from(names)), "regions": draw(regions)},
            "to": [{"account": t, "regions": draw(regions)} for t in targets],
        }
        filters = draw(st.lists(st.sampled_from(FILTERS), max_size=2, unique=True))
        if filters:
            entry["filters"] = filters
        replication.append(entry)
    templates = [
        {
            "accounts": draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True)),
            "prefix": prefix,
            "image_tag_mutability": draw(st.sampled_from(["MUTABLE", "IMMUTABLE"])),
            "regions": draw(regions),
        }
        for prefix in draw(st.lists(st.sampled_from(PREFIXES), max_size=2, unique=True))
    ]
    return {
        "version": 1,
        "defaults": {
            "role_arn": "arn:aws:iam::{account_id}:role/tfgen",
            "backend": {"s3": {"bucket": STATE_BUCKET, "region": "us-east-1"}},
        },
        "accounts": accounts,
        "replication": replication,
        **({"creation_templates": templates} if templates else {}),
    }


def _valid(data: dict[str, Any]) -> bool:
    """What `tfgen validate` says: the checks of the spec and of the compiled registries."""
    try:
        compile_spec(spec_from_data(data))
    except SpecError as exc:
        return not any(i.severity.value == "error" for i in exc.issues)
    return True


@settings(
    max_examples=3,
    deadline=None,
    phases=(Phase.generate,),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=small_specs())
def test_validate_implies_plan_apply_in_sync_and_clean_replan(
    data: dict[str, Any],
    world_env: MotoAws,
    terraform_bin: Path,
    moto_endpoint: str,
    tmp_path: Path,
) -> None:
    assume(_valid(data))
    root = tmp_path / "world"
    shutil.rmtree(root, ignore_errors=True)  # one fresh tree and organisation per example
    root.mkdir()
    reset(moto_endpoint)
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=STATE_BUCKET)
    # A reset forgets the assumed-role credentials that world_env's clients hold: new clients.
    aws = MotoAws(moto_endpoint)
    world = World(root, aws, terraform_bin, backend_config(moto_endpoint))
    world.write_spec(yaml.safe_dump(data, sort_keys=False))
    world.render()
    plan = world.plan()
    assert plan.code == 2, plan.why()
    apply = world.apply()
    assert apply.code == 0, apply.why()
    compiled = world.compiled()
    assert normalised(world.live(compiled)) == normalised(compiled)
    code, verdict = world.verify()
    assert code == 0, verdict
    # The shortcut finds every stack in sync, and Terraform, asked about every one, agrees.
    fast = world.plan()
    assert fast.code == 0, fast.why()
    assert fast.report is not None and fast.report["totals"]["in_sync"] == len(fast.stacks())
    again = world.plan("--all")
    assert again.code == 0, again.why()
