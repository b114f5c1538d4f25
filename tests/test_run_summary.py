"""ECR-aware plan summaries: hand-written samples of Terraform's documented JSON formats, and real
plans of the rendered stacks that the end-to-end tests recorded (tests/fixtures/plans)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tfgen.run.summary import (
    as_dict,
    from_dict,
    grant_delta,
    needs_show,
    parse_stream,
    replication_delta,
    summarize,
    with_ecr,
)


def _rule(dests: list[tuple[str, str]], prefix: str | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "destination": [{"region": r, "registry_id": a} for a, r in dests],
        "repository_filter": [],
    }
    if prefix is not None:
        rule["repository_filter"] = [{"filter": prefix, "filter_type": "PREFIX_MATCH"}]
    return rule


def _replication(
    before: list[dict[str, Any]] | None, after: list[dict[str, Any]] | None, actions: list[str]
) -> dict[str, Any]:
    def values(rules: list[dict[str, Any]] | None) -> dict[str, Any] | None:
        if rules is None:
            return None
        return {"registry_id": "111111111111", "replication_configuration": [{"rule": rules}]}

    return {
        "address": "module.replication.aws_ecr_replication_configuration.this",
        "mode": "managed",
        "type": "aws_ecr_replication_configuration",
        "name": "this",
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {
            "actions": actions,
            "before": values(before),
            "after": values(after),
            "after_unknown": {"registry_id": True} if before is None else {},
        },
    }


def _policy_json(grants: dict[str, list[str]]) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": sid,
                    "Effect": "Allow",
                    "Principal": {"AWS": principals},
                    "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
                    "Resource": ["arn:aws:ecr:us-east-1:222222222222:repository/*"],
                }
                for sid, principals in grants.items()
            ],
        }
    )


def _policy(
    before: dict[str, list[str]] | None, after: dict[str, list[str]] | None, actions: list[str]
) -> dict[str, Any]:
    return {
        "address": "module.registry_policy.aws_ecr_registry_policy.this",
        "mode": "managed",
        "type": "aws_ecr_registry_policy",
        "name": "this",
        "change": {
            "actions": actions,
            "before": None if before is None else {"policy": _policy_json(before)},
            "after": None if after is None else {"policy": _policy_json(after)},
            "after_unknown": {},
        },
    }


ROOT = "arn:aws:iam::{}:root"


def test_replication_destination_added_to_existing_rule() -> None:
    rc = _replication(
        [_rule([("222222222222", "us-east-1")], "team-a")],
        [_rule([("222222222222", "us-east-1"), ("333333333333", "eu-west-1")], "team-a")],
        ["update"],
    )
    delta = replication_delta(rc)
    assert delta.destinations_added == ("333333333333/eu-west-1",)
    assert delta.destinations_removed == ()
    # The rule's identity includes its destinations: the old shape goes, the new one comes.
    assert delta.rules_added == (
        "PREFIX_MATCH:team-a -> 222222222222/us-east-1, 333333333333/eu-west-1",
    )
    assert delta.rules_removed == ("PREFIX_MATCH:team-a -> 222222222222/us-east-1",)


def test_replication_rule_removed_keeps_shared_destination() -> None:
    rc = _replication(
        [_rule([("222222222222", "us-east-1")], "a"), _rule([("222222222222", "us-east-1")], "b")],
        [_rule([("222222222222", "us-east-1")], "a")],
        ["update"],
    )
    delta = replication_delta(rc)
    assert delta.rules_removed == ("PREFIX_MATCH:b -> 222222222222/us-east-1",)
    assert delta.rules_added == ()
    assert delta.destinations_removed == ()


def test_replication_created_and_deleted() -> None:
    created = replication_delta(_replication(None, [_rule([("2", "us-east-1")])], ["create"]))
    assert created.rules_added == ("all repositories -> 2/us-east-1",)
    assert created.destinations_added == ("2/us-east-1",)
    deleted = replication_delta(_replication([_rule([("2", "us-east-1")])], None, ["delete"]))
    assert deleted.rules_removed == ("all repositories -> 2/us-east-1",)
    assert deleted.destinations_removed == ("2/us-east-1",)


def test_grants_principals_and_sids() -> None:
    rc = _policy(
        {"TfgenReplication": [ROOT.format("111111111111")], "Old": [ROOT.format("444444444444")]},
        {"TfgenReplication": [ROOT.format("111111111111"), ROOT.format("333333333333")]},
        ["update"],
    )
    delta = grant_delta(rc)
    assert delta.principals_added == (ROOT.format("333333333333"),)
    assert delta.principals_removed == (ROOT.format("444444444444"),)
    assert delta.sids_added == ()
    assert delta.sids_removed == ("Old",)


def test_grants_access_shows_a_source_moving_to_other_repositories() -> None:
    """A source whose filters change keeps its principal; the access it gains and loses shows."""
    rc = _policy(
        {"TfgenReplication": [ROOT.format("111111111111")]},
        {"TfgenReplication": [ROOT.format("111111111111")]},
        ["update"],
    )
    after = json.loads(rc["change"]["after"]["policy"])
    after["Statement"][0]["Sid"] = "TfgenReplicationc304c86f"
    after["Statement"][0]["Resource"] = [
        "arn:aws:ecr:us-east-1:222222222222:repository/base*",
        "arn:aws:ecr:us-east-1:222222222222:repository/team-a/*",
    ]
    after["Statement"].append(  # a Deny gives no access
        {"Effect": "Deny", "Principal": {"AWS": ROOT.format("111111111111")}, "Resource": "*"}
    )
    rc["change"]["after"]["policy"] = json.dumps(after)
    delta = grant_delta(rc)
    assert delta.principals_added == delta.principals_removed == ()
    assert delta.sids_added == ("TfgenReplicationc304c86f",)
    assert delta.sids_removed == ("TfgenReplication",)
    both = "(ecr:CreateRepository, ecr:ReplicateImage)"
    root = ROOT.format("111111111111")
    assert delta.access_added == (
        f"{root} -> repository/base* {both}",
        f"{root} -> repository/team-a/* {both}",
    )
    assert delta.access_removed == (f"{root} -> repository/* {both}",)
    assert from_dict(as_dict(summarize({"resource_changes": [rc]}))).grants[0] == replace(
        delta, address=rc["address"]
    )


def test_grants_single_string_principal_and_unknown_after() -> None:
    rc = _policy(None, None, ["create"])
    rc["change"]["after"] = {
        "policy": json.dumps({"Statement": {"Sid": "One", "Principal": {"AWS": ROOT.format("1")}}})
    }
    assert grant_delta(rc).principals_added == (ROOT.format("1"),)
    rc["change"]["after"] = {}
    rc["change"]["after_unknown"] = {"policy": True}
    assert grant_delta(rc).unknown_after


def test_summarize_counts_like_terraform() -> None:
    plan = {
        "format_version": "1.2",
        "resource_changes": [
            _replication(
                [_rule([("2", "us-east-1")])], [_rule([("3", "us-east-1")])], ["delete", "create"]
            ),
            _policy(None, {"TfgenReplication": [ROOT.format("1")]}, ["create"]),
            {
                "address": "null_resource.x",
                "mode": "managed",
                "type": "null_resource",
                "change": {"actions": ["no-op"], "before": {}, "after": {}},
            },
            {
                "address": "data.aws_caller_identity.me",
                "mode": "data",
                "type": "aws_caller_identity",
                "change": {"actions": ["read"]},
            },
            {
                "address": "null_resource.y",
                "mode": "managed",
                "type": "null_resource",
                "change": {"actions": ["update"], "before": {}, "after": {}},
            },
            {
                "address": "null_resource.z",
                "mode": "managed",
                "type": "null_resource",
                "change": {"actions": ["delete"], "before": {}, "after": None},
            },
        ],
    }
    summary = summarize(plan)
    assert (summary.add, summary.change, summary.destroy) == (2, 1, 2)
    assert [r.action for r in summary.resources] == ["replace", "create", "update", "delete"]
    assert summary.replication[0].destinations_added == ("3/us-east-1",)
    assert summary.grants[0].principals_added == (ROOT.format("1"),)
    assert from_dict(json.loads(json.dumps(as_dict(summary)))) == summary


def test_summarize_empty_plan() -> None:
    summary = summarize({"format_version": "1.2"})
    assert not summary.has_changes
    assert summary.replication == summary.grants == ()


def _line(**message: Any) -> str:
    return json.dumps({"@level": "info", "@module": "terraform.ui", **message})


def test_parse_stream_counts_resources_and_errors() -> None:
    lines = [
        _line(type="version", terraform="1.0.3", ui="0.1.0", **{"@message": "Terraform 1.0.3"}),
        _line(
            type="planned_change",
            **{"@message": "x: Plan to create"},
            change={
                "resource": {
                    "addr": "aws_ecr_registry_policy.this",
                    "resource_type": "aws_ecr_registry_policy",
                },
                "action": "create",
            },
        ),
        _line(
            type="change_summary",
            **{"@message": "Plan: 1 to add, 0 to change, 2 to destroy."},
            changes={"add": 1, "change": 0, "remove": 2, "operation": "plan"},
        ),
        "not json at all\n",
        json.dumps(
            {
                "@level": "error",
                "@message": "Error: Unsupported argument",
                "type": "diagnostic",
                "diagnostic": {
                    "severity": "error",
                    "summary": "Unsupported argument",
                    "detail": 'An argument named "x" is not expected here.',
                },
            }
        ),
    ]
    facts = parse_stream(lines)
    assert (facts.summary.add, facts.summary.change, facts.summary.destroy) == (1, 0, 2)
    assert needs_show(facts.summary)
    assert facts.errors == (
        'Error: Unsupported argument\nAn argument named "x" is not expected here.',
    )
    detailed = with_ecr(
        facts.summary, {"resource_changes": [_policy(None, {"S": [ROOT.format("9")]}, ["create"])]}
    )
    assert detailed.add == 1 and detailed.grants[0].sids_added == ("S",)


def test_null_only_stream_does_not_need_show() -> None:
    line = _line(
        type="planned_change",
        change={
            "resource": {"addr": "null_resource.r", "resource_type": "null_resource"},
            "action": "create",
        },
    )
    assert not needs_show(parse_stream([line]).summary)


# --- real plans (recorded by the end-to-end tests, tests/e2e/harness.py World.record) -------------

PLAN_FIXTURES = sorted((Path(__file__).parent / "fixtures" / "plans").glob("*.json"))


def test_real_plans_are_recorded() -> None:
    # Spec changes, drift repairs and removals; refresh with TFGEN_RECORD_PLANS=1 (harness.py).
    assert len(PLAN_FIXTURES) >= 10, PLAN_FIXTURES


@pytest.mark.parametrize("fixture", PLAN_FIXTURES, ids=lambda p: p.stem)
def test_summary_of_a_real_plan_states_exactly_the_compiled_difference(fixture: Path) -> None:
    """`show -json` of plans the real provider made; the facts to find were computed from the
    compiled states before and after, not from the summary."""
    from tests.e2e import delta

    data = json.loads(fixture.read_text())
    report = {"stacks": [{"summary": as_dict(summarize(plan))} for plan in data["plans"].values()]}
    assert delta.observed(report) == {k: set(v) for k, v in data["expected"].items()}
