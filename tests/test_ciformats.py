"""tfgen stacks (per-phase CI matrices, GitLab child pipelines) and the atlantis.yaml generator
(tfgen.ciformats, tfgen.render.atlantis)."""

from __future__ import annotations

import json
import posixpath
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from tfgen import ciformats, manifest
from tfgen.cli import main_group
from tfgen.compile import compile_loaded
from tfgen.manifest import PHASE_NAMES, PHASES, Manifest, ManifestError, ManifestStack
from tfgen.render import render_tree
from tfgen.render.atlantis import atlantis_location
from tfgen.spec import load_spec, load_spec_text

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = ("hub-and-spoke", "mesh", "same-account-dr")
MATRIX_KEYS = {
    "stack",
    "slug",
    "path",
    "dir",
    "kind",
    "phase",
    "account",
    "account_id",
    "regions",
    "depends_on",
}

SAME_ACCOUNT_ONLY = """
version: 1
accounts:
  platform: {id: "555555555555"}
replication:
  - from: {account: platform, regions: [us-east-1]}
    to: [{account: platform, regions: [us-west-2]}]
"""


def rendered(tmp_path: Path, example: str) -> tuple[Path, Manifest]:
    out = tmp_path / example
    render_tree(compile_loaded(load_spec(REPO / "examples" / example / "tfgen.yaml")), out)
    return out, manifest.load(out)


def stack(stack_id: str, path: str | None = None, **kw: Any) -> ManifestStack:
    kind = stack_id.split("/")[1]
    return ManifestStack(stack_id, path or f"stacks/{stack_id}", kind, PHASES[kind], **kw)


@pytest.mark.parametrize("example", EXAMPLES)
def test_phase_names_match_the_renderer(tmp_path: Path, example: str) -> None:
    _, tree = rendered(tmp_path, example)
    assert {(s.kind, s.phase) for s in tree.stacks} <= set(PHASES.items())
    assert dict(PHASE_NAMES) == {phase: kind for kind, phase in PHASES.items()}


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_stack_lands_in_its_phase_matrix(tmp_path: Path, example: str) -> None:
    _, tree = rendered(tmp_path, example)
    result = ciformats.stack_phases(tree.ordered(), "infra/ecr")
    assert [p["phase"] for p in result["phases"]] == [1, 2]
    assert [p["name"] for p in result["phases"]] == ["registry-policy", "replication"]
    listed = []
    for p in result["phases"]:
        include = p["matrix"]["include"]
        assert list(p["matrix"]) == ["include"]  # nothing else: GitHub would cross it with include
        assert p["has_stacks"] is bool(include) and p["count"] == len(include)
        for entry in include:
            assert set(entry) == MATRIX_KEYS
            assert entry["phase"] == p["phase"] and entry["kind"] == p["name"]
            assert entry["dir"] == f"infra/ecr/{entry['path']}"
            assert "/" not in entry["slug"]
            listed.append(entry["stack"])
    assert sorted(listed) == sorted(s.id for s in tree.stacks)
    assert [e["stack"] for e in result["all"]["matrix"]["include"]] == listed
    assert result["count"] == len(listed)


def test_hub_and_spoke_matrices(tmp_path: Path) -> None:
    _, tree = rendered(tmp_path, "hub-and-spoke")
    phase1, phase2 = ciformats.stack_phases(tree.ordered())["phases"]
    assert [e["stack"] for e in phase1["matrix"]["include"]] == [
        "data/registry-policy",
        "prod/registry-policy",
        "staging/registry-policy",
    ]
    assert phase2["matrix"]["include"] == [
        {
            "stack": "build/replication",
            "slug": "build-replication",
            "path": "stacks/build/replication",
            "dir": "stacks/build/replication",
            "kind": "replication",
            "phase": 2,
            "account": "build",
            "account_id": "111111111111",
            "regions": ["us-east-1"],
            "depends_on": [
                "data/registry-policy",
                "prod/registry-policy",
                "staging/registry-policy",
            ],
        }
    ]


def test_a_replication_stack_depends_only_on_earlier_phases(tmp_path: Path) -> None:
    for example in EXAMPLES:
        _, tree = rendered(tmp_path, example)
        phase_of = {s.id: s.phase for s in tree.stacks}
        for p in ciformats.stack_phases(tree.ordered())["phases"]:
            for entry in p["matrix"]["include"]:
                assert all(phase_of[d] < entry["phase"] for d in entry["depends_on"])


def test_an_empty_phase_is_listed_and_flagged(tmp_path: Path) -> None:
    out = tmp_path / "dr"
    render_tree(compile_loaded(load_spec_text(SAME_ACCOUNT_ONLY)), out)
    stacks = manifest.load(out).ordered()
    phase1, phase2 = ciformats.stack_phases(stacks)["phases"]
    assert phase1 == {
        "phase": 1,
        "name": "registry-policy",
        "has_stacks": False,
        "count": 0,
        "matrix": {"include": []},
        "job_count": 0,
        "jobs": {"include": []},
    }
    assert phase2["has_stacks"] is True
    lines = ciformats.github_outputs(ciformats.stack_phases(stacks)).splitlines()
    assert "phase1_has_stacks=false" in lines and "phase2_has_stacks=true" in lines


def test_retired_stacks_are_listed_they_have_work_to_do(tmp_path: Path) -> None:
    tree = Manifest(
        tmp_path, {}, (stack("a/replication", retired=True), stack("b/registry-policy"))
    )
    ids = [s.id for s in tree.ordered()]
    assert ids == ["b/registry-policy", "a/replication"]
    assert [
        e["stack"] for e in ciformats.stack_phases(tree.ordered())["all"]["matrix"]["include"]
    ] == ["b/registry-policy", "a/replication"]


def test_github_outputs_are_one_line_each_and_parse(tmp_path: Path) -> None:
    _, tree = rendered(tmp_path, "mesh")
    phases = ciformats.stack_phases(tree.ordered(), "infra/ecr")
    text = ciformats.github_outputs(phases)
    assert text.endswith("\n")
    outputs = dict(line.split("=", 1) for line in text.splitlines())
    assert set(outputs) == {
        f"{g}{suffix}"
        for g in ("phase1", "phase2", "all")
        for suffix in ("", "_has_stacks", "_count", "_jobs")
    }
    assert json.loads(outputs["phase1"]) == phases["phases"][0]["jobs"]
    assert json.loads(outputs["phase2"]) == phases["phases"][1]["jobs"]
    assert json.loads(outputs["all"]) == phases["all"]["jobs"]
    assert outputs["phase1_count"] == "3" and outputs["all_count"] == "6"
    assert outputs["all_jobs"] == "6"  # few stacks: one job each, named after its stack
    for job in phases["all"]["jobs"]["include"]:
        assert job["job"] == job["stack"] == job["stacks"] and job["paths"] == job["path"]


def _many(n: int) -> list[ManifestStack]:
    """n accounts, each with a registry-policy stack and a replication stack."""
    out = []
    for i in range(n):
        policy = stack(f"acct{i:03d}/registry-policy")
        out += [policy, stack(f"acct{i:03d}/replication", depends_on=(policy.id,))]
    return out


def test_github_matrices_stay_under_256_jobs_each_phase_in_order() -> None:
    """300 accounts: 300 stacks a phase, 600 in all. No matrix over GitHub's 256 jobs; every
    stack in exactly one job of its own phase, in order; a job's stacks select with --stacks."""
    from tfgen.run.selection import select, split_patterns

    stacks = _many(300)
    phases = ciformats.stack_phases(stacks, "infra/ecr")
    outputs = dict(line.split("=", 1) for line in ciformats.github_outputs(phases).splitlines())
    for group, ids in (
        ("phase1", [s.id for s in stacks if s.phase == 1]),
        ("phase2", [s.id for s in stacks if s.phase == 2]),
        ("all", sorted((s for s in stacks), key=lambda s: (s.phase, s.id))),
    ):
        jobs = json.loads(outputs[group])["include"]
        assert 0 < len(jobs) <= 256 and outputs[f"{group}_jobs"] == str(len(jobs))
        assert outputs[f"{group}_count"] == str(len(ids))
        listed = [i for j in jobs for i in j["stacks"].split(",")]
        expected = [s if isinstance(s, str) else s.id for s in ids]
        assert listed == sorted(expected, key=lambda i: (i.endswith("replication"), i))
        assert len({j["slug"] for j in jobs}) == len(jobs)  # artifact names
        for job in jobs:
            chosen = select(stacks, split_patterns((job["stacks"],)))
            assert [s.id for s in chosen] == job["stacks"].split(",")
            assert job["paths"].split() == [s.path for s in chosen]
            assert job["count"] == len(chosen)
            if group != "all":  # a phase's job never mixes phases
                assert {s.phase for s in chosen} == {int(group[-1])}


def test_max_jobs_splits_evenly() -> None:
    stacks = _many(5)  # 5 policy stacks
    (phase1, _) = ciformats.stack_phases(stacks, ".", max_jobs=2)["phases"]
    jobs = phase1["jobs"]["include"]
    assert [j["count"] for j in jobs] == [3, 2]
    assert [j["job"] for j in jobs] == ["registry-policy 1/2", "registry-policy 2/2"]
    assert [j["slug"] for j in jobs] == ["registry-policy-001-of-002", "registry-policy-002-of-002"]
    (phase1, _) = ciformats.stack_phases(stacks, ".", max_jobs=3)["phases"]
    jobs = phase1["jobs"]["include"]
    assert [(j["job"], j["count"]) for j in jobs] == [
        ("registry-policy 1/3", 2),
        ("registry-policy 2/3", 2),
        ("registry-policy 3/3", 1),  # named as a share of the phase, like its siblings
    ]


def test_gitlab_plan_and_apply_pipelines_group_stacks_alike() -> None:
    """The apply job fetches the plan job of the same name: both pipelines must group alike."""
    stacks = _many(7)
    plan = yaml.safe_load(
        ciformats.gitlab_child_pipeline(
            stacks, "infra/ecr", ciformats.GitlabOptions(stage="plan", max_jobs=3)
        )
    )
    apply = yaml.safe_load(
        ciformats.gitlab_child_pipeline(
            stacks, "infra/ecr", ciformats.GitlabOptions(job_prefix="apply", max_jobs=3)
        )
    )
    plan_jobs = {v["variables"]["TFGEN_JOB"]: v for k, v in plan.items() if k != "stages"}
    apply_jobs = {v["variables"]["TFGEN_JOB"]: v for k, v in apply.items() if k != "stages"}
    assert set(plan_jobs) == set(apply_jobs) and len(plan_jobs) == 6  # 3 per phase
    for name, job in apply_jobs.items():
        assert job["variables"]["TFGEN_STACKS"] == plan_jobs[name]["variables"]["TFGEN_STACKS"]
        assert (
            job["stage"]
            == {"1": "registry-policy", "2": "replication"}[job["variables"]["TFGEN_PHASE"]]
        )


def test_directory_is_joined_cleanly() -> None:
    stacks = [stack("a/replication")]
    for directory, expected in (
        (".", "stacks/a/replication"),
        ("", "stacks/a/replication"),
        ("infra/ecr/", "infra/ecr/stacks/a/replication"),
        ("./infra/ecr", "infra/ecr/stacks/a/replication"),
    ):
        entry = ciformats.stack_phases(stacks, directory)["all"]["matrix"]["include"][0]
        assert entry["dir"] == expected, directory


# --- GitLab ---------------------------------------------------------------------------------------


def test_gitlab_child_pipeline_orders_phases_by_stage(tmp_path: Path) -> None:
    _, tree = rendered(tmp_path, "hub-and-spoke")
    text = ciformats.gitlab_child_pipeline(
        tree.ordered(),
        "infra/ecr",
        ciformats.GitlabOptions(
            job_prefix="apply", extends=".tfgen-apply", includes=(".gitlab/tfgen-jobs.yml",)
        ),
    )
    doc = yaml.safe_load(text)
    assert doc["include"] == [{"local": ".gitlab/tfgen-jobs.yml"}]
    assert doc["stages"] == ["registry-policy", "replication"]
    jobs = {k: v for k, v in doc.items() if k not in ("include", "stages")}
    assert sorted(jobs) == sorted(f"apply {s.id}" for s in tree.stacks)
    for name, job in jobs.items():
        assert "needs" not in job  # needs would let a job start before its stage
        assert job["extends"] == ".tfgen-apply"
        variables = job["variables"]
        assert all(isinstance(v, str) for v in variables.values())
        assert name == f"apply {variables['TFGEN_STACK']}"
        assert job["stage"] == variables["TFGEN_STACK_KIND"]
        assert variables["TFGEN_STACK_DIR"] == f"infra/ecr/{variables['TFGEN_STACK_PATH']}"
    build = jobs["apply build/replication"]["variables"]
    assert build["TFGEN_ACCOUNT_ID"] == "111111111111"  # a string, never a YAML number
    assert build["TFGEN_PHASE"] == "2"
    assert build["TFGEN_DEPENDS_ON"] == (
        "data/registry-policy,prod/registry-policy,staging/registry-policy"
    )
    assert "'111111111111'" in text


def test_gitlab_single_stage_for_plans(tmp_path: Path) -> None:
    _, tree = rendered(tmp_path, "mesh")
    doc = yaml.safe_load(
        ciformats.gitlab_child_pipeline(tree.ordered(), ".", ciformats.GitlabOptions(stage="plan"))
    )
    assert doc["stages"] == ["plan"]
    assert "include" not in doc
    jobs = [v for k, v in doc.items() if k != "stages"]
    assert len(jobs) == 6 and all(j["stage"] == "plan" for j in jobs)
    assert all(j["extends"] == ".tfgen-stack" for j in jobs)


def test_gitlab_child_pipeline_is_never_empty() -> None:
    doc = yaml.safe_load(ciformats.gitlab_child_pipeline([], "infra/ecr"))
    jobs = {k: v for k, v in doc.items() if k != "stages"}
    assert list(jobs) == ["plan (no stacks)"]
    (job,) = jobs.values()
    assert job["stage"] in doc["stages"] and job["script"]
    assert "extends" not in job


# --- Atlantis -------------------------------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES)
def test_atlantis_yaml_has_a_project_per_stack(tmp_path: Path, example: str) -> None:
    out, tree = rendered(tmp_path, example)
    text = ciformats.atlantis_yaml(tree.ordered())
    doc = yaml.safe_load(text)
    assert doc["version"] == 3
    assert doc["parallel_plan"] is True and doc["parallel_apply"] is True
    assert doc["abort_on_execution_order_fail"] is True
    projects = doc["projects"]
    assert len(projects) == len(tree.stacks)
    assert len({p["name"] for p in projects}) == len(projects)
    by_dir = {p["dir"]: p for p in projects}
    for s in tree.stacks:
        project = by_dir[s.path]
        assert project["name"] == s.id.replace("/", "-")
        assert project["execution_order_group"] == (1 if s.kind == "registry-policy" else 2)
        assert project["autoplan"]["enabled"] is True
        when = project["autoplan"]["when_modified"]
        assert "*.tf" in when
        module_patterns = [w for w in when if "modules/" in w]
        assert len(module_patterns) == len(s.modules)
        for module, pattern in zip(sorted(s.modules), module_patterns, strict=True):
            assert pattern == f"../../../{module}/*.tf"
            # The pattern, taken from the stack's directory, names the module's files.
            target = posixpath.normpath(posixpath.join(s.path, posixpath.dirname(pattern)))
            assert target == module
            assert list((out / target).glob("*.tf"))
        assert "workflow" not in project
    # every registry-policy group precedes every replication group
    groups = [p["execution_order_group"] for p in projects]
    assert groups == sorted(groups)


def test_atlantis_dir_prefix_and_workflow(tmp_path: Path) -> None:
    _, tree = rendered(tmp_path, "hub-and-spoke")
    doc = yaml.safe_load(
        ciformats.atlantis_yaml(tree.ordered(), dir_prefix="infra/ecr/", workflow="tfgen")
    )
    assert {p["dir"] for p in doc["projects"]} == {f"infra/ecr/{s.path}" for s in tree.stacks}
    assert {p["workflow"] for p in doc["projects"]} == {"tfgen"}
    # module paths stay relative to the project dir, whatever the prefix
    assert all(
        w.startswith("../../../modules/") or not w.startswith("..")
        for p in doc["projects"]
        for w in p["autoplan"]["when_modified"]
    )


def test_atlantis_yaml_is_deterministic(tmp_path: Path) -> None:
    _, tree = rendered(tmp_path, "mesh")
    first = ciformats.atlantis_yaml(tree.ordered())
    shuffled = list(tree.stacks)
    random.Random(7).shuffle(shuffled)
    assert shuffled != list(tree.stacks)
    assert ciformats.atlantis_yaml(shuffled) == first
    assert first.startswith("# Generated by tfgen")


def test_atlantis_rejects_colliding_project_names() -> None:
    # Impossible in a manifest tfgen reads (kinds are fixed), so built by hand.
    stacks = [
        ManifestStack("a-b/replication", "stacks/a-b/x", "replication", 2),
        ManifestStack("a/b-replication", "stacks/a/y", "replication", 2),
    ]
    with pytest.raises(ManifestError, match="both be Atlantis project"):
        ciformats.atlantis_yaml(stacks)


# --- the command ----------------------------------------------------------------------------------


def test_stacks_command_json_and_formats(tmp_path: Path) -> None:
    out, tree = rendered(tmp_path, "hub-and-spoke")
    runner = CliRunner()
    result = runner.invoke(main_group, ["stacks", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == ciformats.stack_phases(tree.ordered(), out.as_posix())
    result = runner.invoke(main_group, ["stacks", str(out), "--format", "github"])
    assert result.exit_code == 0
    assert result.stdout == ciformats.github_outputs(
        ciformats.stack_phases(tree.ordered(), out.as_posix())
    )
    gitlab = ["--format", "gitlab", "--include", "a.yml", "--extends", ".x", "--stage", "p"]
    result = runner.invoke(main_group, ["stacks", str(out), *gitlab])
    assert result.exit_code == 0
    doc = yaml.safe_load(result.stdout)
    assert doc["include"] == [{"local": "a.yml"}] and doc["stages"] == ["p"]
    result = runner.invoke(main_group, ["stacks", str(out)])
    assert result.exit_code == 0
    for s in tree.stacks:
        assert s.id in result.stdout


def test_stacks_command_errors_are_messages(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main_group, ["stacks", str(tmp_path), "--json"])
    assert result.exit_code == 1
    assert "tfgen.manifest.json not found" in result.stderr
    assert "Traceback" not in result.output
    (tmp_path / "tfgen.manifest.json").write_text("{not json")
    result = runner.invoke(main_group, ["stacks", str(tmp_path)])
    assert result.exit_code == 1 and "manifest" in result.stderr
    (tmp_path / "tfgen.manifest.json").write_text('{"manifest_version": 1, "stacks": 3}')
    result = runner.invoke(main_group, ["stacks", str(tmp_path)])
    assert result.exit_code == 1 and "stacks: expected a list of stacks" in result.stderr
    args = ["stacks", str(tmp_path), "--json", "--format", "gitlab"]
    result = runner.invoke(main_group, args)
    assert result.exit_code == 1 and "alternatives" in result.output  # usage errors exit 1


def test_atlantis_location_is_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    out = tmp_path / "infra" / "ecr"
    out.mkdir(parents=True)
    assert atlantis_location(out) == (tmp_path.resolve() / "atlantis.yaml", "infra/ecr")
    assert atlantis_location(tmp_path) == (tmp_path.resolve() / "atlantis.yaml", "")
    elsewhere = tmp_path / "outside"
    (elsewhere / "x").mkdir(parents=True)
    (elsewhere / "x" / ".git").write_text("gitdir: ../..\n")  # a worktree: .git is a file
    assert atlantis_location(elsewhere / "x") == (
        (elsewhere / "x").resolve() / "atlantis.yaml",
        "",
    )
