"""examples/ci: the GitHub Actions workflow and the GitLab CI pipeline have the jobs, keys and
ordering they must have, call only tfgen options that exist, and use the matrices that
`tfgen stacks` prints."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner

from tfgen import ciformats, manifest
from tfgen.cli import main_group
from tfgen.compile import compile_loaded
from tfgen.render import render_tree
from tfgen.spec import load_spec

REPO = Path(__file__).resolve().parent.parent
CI = REPO / "examples" / "ci"


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((CI / name).read_text())
    assert isinstance(data, dict)
    return data


def commands() -> dict[str, click.Command]:
    """Every tfgen subcommand, by name."""
    ctx = click.Context(main_group)
    found = {}
    for name in main_group.list_commands(ctx):
        command = main_group.get_command(ctx, name)
        assert command is not None
        found[name] = command
    return found


def tfgen_calls(script: str) -> Iterator[list[str]]:
    """The argv of every `tfgen ...` command in a shell script (continuations joined)."""
    script = script.replace("\\\n", " ")
    for line in script.splitlines():
        if "tfgen " not in line:
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        command: list[str] = []
        for token in [*lexer, ";"]:
            if token and set(token) <= set("();<>|&"):
                if command and command[0] == "tfgen":
                    yield command[1:]
                command = []
            else:
                command.append(token)


def check_tfgen_call(argv: list[str]) -> str:
    """The subcommand; fails when it or any --option does not exist."""
    available = commands()
    assert argv and argv[0] in available, f"unknown command: tfgen {' '.join(argv)}"
    command = available[argv[0]]
    options = {opt for p in command.params for opt in getattr(p, "opts", [])}
    for word in argv[1:]:
        if word.startswith("-"):
            assert word.split("=")[0] in options, f"tfgen {argv[0]} has no option {word}"
    return argv[0]


# --- GitHub Actions -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return load("github-actions.yml")


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def runs(job: dict[str, Any]) -> str:
    return "\n".join(str(s.get("run", "")) for s in steps(job))


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if str(s.get("uses", "")).split("@")[0] == action]


def needs(job: dict[str, Any]) -> list[str]:
    value = job.get("needs", [])
    return [value] if isinstance(value, str) else list(value)


def test_github_triggers(workflow: dict[str, Any]) -> None:
    on: dict[str, Any] = workflow.get("on") or workflow[True]  # type: ignore[index]
    # (YAML 1.1 reads a bare `on` key as true)
    assert "pull_request" in on
    assert on["push"]["branches"] == ["main"]
    assert on["schedule"] and "cron" in on["schedule"][0]  # the full plan, nightly
    assert workflow["permissions"] == {"contents": "read"}


def test_github_jobs_and_needs(workflow: dict[str, Any]) -> None:
    jobs = workflow["jobs"]
    assert {
        "render-check",
        "stacks",
        "plan",
        "plan-comment",
        "find-plans",
        "apply-registry-policy",
        "apply-replication",
    } <= set(jobs)
    for name, job in jobs.items():
        for need in needs(job):
            assert need in jobs, f"{name} needs unknown job {need}"
        # every needs.X.outputs.Y it reads comes from a job it needs, which defines Y
        text = json.dumps(job)
        for other, output in re.findall(r"needs\.([\w-]+)\.outputs\.([\w-]+)", text):
            assert other in needs(job), f"{name} reads {other}'s outputs without needing it"
            assert output in jobs[other].get("outputs", {}), f"{other} has no output {output}"
    # ordering: check → stacks → plan → comment; stacks → find-plans → phase 1 → phase 2
    assert needs(jobs["stacks"]) == ["render-check"]
    assert "stacks" in needs(jobs["plan"])
    assert {"stacks", "plan"} <= set(needs(jobs["plan-comment"]))
    assert "find-plans" in needs(jobs["apply-registry-policy"])
    assert "apply-registry-policy" in needs(jobs["apply-replication"])
    assert "find-plans" in needs(jobs["apply-replication"])


def test_github_render_check(workflow: dict[str, Any]) -> None:
    calls = [c for c in tfgen_calls(runs(workflow["jobs"]["render-check"])) if c[0] == "render"]
    assert calls and "--check" in calls[0] and "--out" in calls[0]


def test_github_matrices_come_from_tfgen_stacks(workflow: dict[str, Any], tmp_path: Path) -> None:
    jobs = workflow["jobs"]
    stacks_job = jobs["stacks"]
    calls = list(tfgen_calls(runs(stacks_job)))
    assert ["stacks", "$TFGEN_DIR", "--format", "github"] in calls
    assert '--format github >> "$GITHUB_OUTPUT"' in runs(stacks_job)
    # the outputs the workflow reads are exactly lines `tfgen stacks --format github` prints
    out = tmp_path / "tree"
    render_tree(compile_loaded(load_spec(REPO / "examples/hub-and-spoke/tfgen.yaml")), out)
    printed = ciformats.github_outputs(ciformats.stack_phases(manifest.load(out).ordered()))
    printed_names = {line.split("=", 1)[0] for line in printed.splitlines()}
    step_id = next(s["id"] for s in steps(stacks_job) if "--format github" in s.get("run", ""))
    for name, value in stacks_job["outputs"].items():
        assert value == f"${{{{ steps.{step_id}.outputs.{name} }}}}"
        assert name in printed_names
    expected = {
        "plan": ("all", "all_has_stacks"),
        "apply-registry-policy": ("phase1", "phase1_has_stacks"),
        "apply-replication": ("phase2", "phase2_has_stacks"),
    }
    # the keys of a job of several stacks: those every job of any size has
    listed = manifest.load(out).ordered()
    entry_keys = set(ciformats.job_entry(listed[:2], "infra/ecr", "all", 1, 2))
    for name, (matrix, guard) in expected.items():
        job = jobs[name]
        assert job["strategy"]["matrix"] == f"${{{{ fromJSON(needs.stacks.outputs.{matrix}) }}}}"
        assert job["strategy"]["fail-fast"] is False
        # GitHub fails a job whose matrix is empty: every matrix job is guarded
        assert f"needs.stacks.outputs.{guard} == 'true'" in job["if"]
        # every matrix.<key> the job uses is a key of tfgen's matrix entries
        for key in re.findall(r"matrix\.(\w+)", json.dumps(job)):
            assert key in entry_keys, f"{name} uses matrix.{key}, which tfgen stacks does not give"


def test_github_plan_job(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["plan"]
    assert job["if"].startswith("github.event_name != 'push'")  # pull requests and the schedule
    assert job["permissions"]["id-token"] == "write"
    (creds,) = uses(job, "aws-actions/configure-aws-credentials")
    assert "role-to-assume" in creds["with"]
    (terraform,) = uses(job, "hashicorp/setup-terraform")
    assert terraform["with"]["terraform_wrapper"] is False
    (pr, full) = [s for s in steps(job) if "tfgen plan" in str(s.get("run", ""))]
    assert pr["if"] == "github.event_name == 'pull_request'"
    assert full["if"] == "github.event_name != 'pull_request'"
    (plan,) = [c for c in tfgen_calls(pr["run"]) if c[0] == "plan"]
    (scheduled,) = [c for c in tfgen_calls(full["run"]) if c[0] == "plan"]
    for flag in ("--markdown", "--json", "--detailed-exitcode", "--stacks"):
        assert flag in plan and flag in scheduled
    assert "--all" in scheduled and "--all" not in plan
    assert "|| [ $? -eq 2 ]" not in full["run"]  # the full plan fails when anything differs
    assert plan[plan.index("--stacks") + 1] == "$STACKS"
    assert job["env"]["STACKS"] == "${{ matrix.stacks }}"
    assert "|| [ $? -eq 2 ]" in runs(job)  # exit 2 (changes) is not a failure
    (upload,) = uses(job, "actions/upload-artifact")
    assert upload["if"] == "always()"
    assert upload["with"]["include-hidden-files"] is True
    assert ".tfgen/plans/" in upload["with"]["path"]
    assert ".terraform.lock.hcl" in upload["with"]["path"]
    assert "plugin-cache" not in upload["with"]["path"]
    assert "${{ matrix.slug }}" in upload["with"]["name"]


def test_github_plan_comment(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["plan-comment"]
    assert job["permissions"]["pull-requests"] == "write"
    assert "!cancelled()" in job["if"]  # posts even when a plan failed
    (sticky,) = uses(job, "marocchino/sticky-pull-request-comment")
    assert sticky["with"]["header"] and sticky["with"]["path"]
    assert [c[:3] for c in tfgen_calls(runs(job))] == [["explain", "$TFGEN_SPEC", "--format"]]
    assert "tfgen-reports/*.md" in runs(job)


@pytest.mark.parametrize("name", ["apply-registry-policy", "apply-replication"])
def test_github_apply_jobs(workflow: dict[str, Any], name: str) -> None:
    job = workflow["jobs"][name]
    assert "push" in job["if"]
    assert job["permissions"]["id-token"] == "write"
    assert job["permissions"]["actions"] == "read"
    (creds,) = uses(job, "aws-actions/configure-aws-credentials")
    assert "APPLY" in creds["with"]["role-to-assume"]
    (download,) = uses(job, "actions/download-artifact")
    assert download["with"]["run-id"] == "${{ needs.find-plans.outputs.run-id }}"
    # plan jobs and apply jobs group stacks differently: every plan job's artifact
    assert download["with"]["pattern"] == "tfgen-plan-*"
    assert download["with"]["merge-multiple"] is True
    assert job["env"] == {"STACKS": "${{ matrix.stacks }}", "STACK_PATHS": "${{ matrix.paths }}"}
    order = [s.get("uses", s.get("run", "")) for s in steps(job)]
    download_at = next(i for i, s in enumerate(order) if "download-artifact" in s)
    init_at = next(i for i, s in enumerate(order) if "terraform -chdir" in s and " init" in s)
    apply_at = next(i for i, s in enumerate(order) if s.startswith("tfgen apply"))
    assert download_at < init_at < apply_at
    (apply,) = [c for c in tfgen_calls(runs(job)) if c[0] == "apply"]
    assert "--auto-approve" in apply and apply[apply.index("--stacks") + 1] == "$STACKS"
    assert 'for path in $STACK_PATHS; do\n  terraform -chdir="$TFGEN_DIR/$path" init' in runs(job)
    assert not [c for c in tfgen_calls(runs(job)) if c[0] == "plan"]  # never re-plans


def test_github_find_plans(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["find-plans"]
    assert "push" in job["if"]
    (script,) = uses(job, "actions/github-script")
    text = script["with"]["script"]
    assert "listPullRequestsAssociatedWithCommit" in text and "listWorkflowRuns" in text
    assert "status: 'success'" in text and "core.setOutput('run-id'" in text
    assert job["outputs"]["run-id"] == "${{ steps.find.outputs.run-id }}"


def test_github_every_tfgen_call_exists(workflow: dict[str, Any]) -> None:
    called = {
        check_tfgen_call(c) for job in workflow["jobs"].values() for c in tfgen_calls(runs(job))
    }
    assert called == {"render", "explain", "stacks", "plan", "apply"}


# --- GitLab CI ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gitlab() -> dict[str, Any]:
    return load("gitlab-ci.yml")


@pytest.fixture(scope="module")
def gitlab_jobs() -> dict[str, Any]:
    return load("gitlab-tfgen-jobs.yml")


def script(job: dict[str, Any]) -> str:
    parts = [*job.get("before_script", []), *job.get("script", [])]
    return "\n".join(str(p) for p in parts)


def test_gitlab_stages_and_jobs(gitlab: dict[str, Any]) -> None:
    assert gitlab["stages"] == ["check", "plan", "apply"]
    jobs = {k: v for k, v in gitlab.items() if isinstance(v, dict) and "stage" in v}
    assert set(jobs) == {
        "render-check",
        "plan-pipeline",
        "plan",
        "find-plans",
        "apply-pipeline",
        "apply",
        "full-plan-pipeline",
        "full-plan",
    }
    # The nightly full plan: its own pipeline source, and nothing of the apply runs then.
    assert {"if": '$CI_PIPELINE_SOURCE == "schedule"'} in gitlab["workflow"]["rules"]
    for name in ("find-plans", "apply-pipeline", "apply"):
        assert all('$CI_PIPELINE_SOURCE == "push"' in r["if"] for r in jobs[name]["rules"])
    full = [c for c in tfgen_calls(script(jobs["full-plan-pipeline"])) if "--format" in c]
    assert full and full[0][full[0].index("--extends") + 1] == ".tfgen-full-plan"
    for name, job in jobs.items():
        for need in job.get("needs", []):
            need_name = need["job"] if isinstance(need, dict) else need
            assert need_name in jobs, f"{name} needs unknown job {need_name}"
            assert gitlab["stages"].index(jobs[need_name]["stage"]) <= gitlab["stages"].index(
                job["stage"]
            )
    render = [c for c in tfgen_calls(script(jobs["render-check"])) if c[0] == "render"]
    assert render and "--check" in render[0]


def child_pipeline_args(gitlab: dict[str, Any], job: str) -> list[str]:
    (call,) = [c for c in tfgen_calls(script(gitlab[job])) if "--format" in c]
    assert call[:3] == ["stacks", "$TFGEN_DIR", "--format"] and call[3] == "gitlab"
    return call


@pytest.mark.parametrize(
    ("trigger", "generator"),
    [("plan", "plan-pipeline"), ("apply", "apply-pipeline"), ("full-plan", "full-plan-pipeline")],
)
def test_gitlab_child_pipelines_come_from_tfgen_stacks(
    gitlab: dict[str, Any], trigger: str, generator: str
) -> None:
    job = gitlab[trigger]
    (include,) = job["trigger"]["include"]
    assert include["job"] == generator
    assert job["trigger"]["strategy"] == "depend"
    assert generator in [n["job"] if isinstance(n, dict) else n for n in job["needs"]]
    assert f"> {include['artifact']}" in script(gitlab[generator])
    assert gitlab[generator]["artifacts"]["paths"] == [include["artifact"]]


def test_gitlab_generated_pipelines_resolve_against_the_templates(
    gitlab: dict[str, Any], gitlab_jobs: dict[str, Any], tmp_path: Path
) -> None:
    """Generate both child pipelines with the exact arguments of gitlab-ci.yml and resolve each
    job's `extends` through gitlab-tfgen-jobs.yml (copied to .gitlab/tfgen-jobs.yml)."""
    out = tmp_path / "infra/ecr"
    render_tree(compile_loaded(load_spec(REPO / "examples/hub-and-spoke/tfgen.yaml")), out)
    for generator, verb in (
        ("plan-pipeline", "plan"),
        ("apply-pipeline", "apply"),
        ("full-plan-pipeline", "full-plan"),
    ):
        argv = child_pipeline_args(gitlab, generator)
        argv[1] = str(out)
        result = CliRunner().invoke(main_group, argv)
        assert result.exit_code == 0, result.output
        child = yaml.safe_load(result.stdout)
        assert child["include"] == [{"local": ".gitlab/tfgen-jobs.yml"}]
        jobs = {k: v for k, v in child.items() if k not in ("include", "stages")}
        assert jobs
        for name, job in jobs.items():
            assert name.startswith(f"{verb} ")
            template = gitlab_jobs[job["extends"]]
            parent = gitlab_jobs[template["extends"]]
            assert parent is gitlab_jobs[".tfgen-stack"]
            command = "plan" if verb == "full-plan" else verb
            calls = [c for c in tfgen_calls(script(template)) if c[0] == command]
            assert calls, f"{job['extends']} does not run tfgen {command}"
            for call in calls:
                check_tfgen_call(call)
                assert call[call.index("--stacks") + 1] == "$TFGEN_STACKS"
            # the scheduled plan asks Terraform about every stack; a review plans what differs
            assert ("--all" in calls[0]) == (verb == "full-plan")
            if command == "plan":
                assert "--markdown" in calls[0] and "--detailed-exitcode" in calls[0]
                assert child["stages"] == ["plan"]
            else:
                assert "--auto-approve" in calls[0]
                # the plan job name fetch-plan looks for is the one the plan pipeline gives
                assert '--job "plan $TFGEN_JOB"' in script(template)
                assert child["stages"] == ["registry-policy", "replication"]
                assert job["stage"] == job["variables"]["TFGEN_STACK_KIND"]


def test_gitlab_oidc(gitlab_jobs: dict[str, Any]) -> None:
    base = gitlab_jobs[".tfgen-stack"]
    assert base["id_tokens"]["AWS_ID_TOKEN"]["aud"] == "sts.amazonaws.com"
    assert "AWS_WEB_IDENTITY_TOKEN_FILE" in base["variables"]
    assert '"$AWS_ID_TOKEN" > "$AWS_WEB_IDENTITY_TOKEN_FILE"' in script(base)
    assert gitlab_jobs[".tfgen-plan"]["variables"]["AWS_ROLE_ARN"] == "$TFGEN_PLAN_ROLE_ARN"
    assert gitlab_jobs[".tfgen-apply"]["variables"]["AWS_ROLE_ARN"] == "$TFGEN_APPLY_ROLE_ARN"


def test_gitlab_plan_artifacts_and_note(
    gitlab: dict[str, Any], gitlab_jobs: dict[str, Any]
) -> None:
    artifacts = gitlab_jobs[".tfgen-plan"]["artifacts"]
    assert artifacts["when"] == "always"
    assert "$TFGEN_DIR/.tfgen/plans/" in artifacts["paths"]
    assert "$TFGEN_DIR/stacks/*/*/.terraform.lock.hcl" in artifacts["paths"]
    note = gitlab_jobs["tfgen-plan-note"]
    assert note["stage"] == ".post"
    assert note["rules"][0]["when"] == "always"
    assert "$TFGEN_MR_IID" in note["rules"][0]["if"]
    assert gitlab["plan"]["variables"]["TFGEN_MR_IID"] == "$CI_MERGE_REQUEST_IID"
    assert "tfgen_ci.py note" in script(note)


def test_gitlab_apply_gets_the_reviewed_plans(gitlab: dict[str, Any]) -> None:
    find = gitlab["find-plans"]
    assert find["artifacts"]["reports"]["dotenv"] == "plans.env"
    assert "find-plans --bridge plan --dotenv plans.env" in script(find)
    apply = gitlab["apply"]
    assert {"job": "find-plans", "artifacts": True} in apply["needs"]
    assert apply["variables"]["TFGEN_PLANS_FROM"] == "$TFGEN_PLAN_PIPELINE_ID"
    # the dotenv variable name the helper writes is the one the trigger forwards
    helper = (CI / "gitlab_tfgen_ci.py").read_text()
    assert "TFGEN_PLAN_PIPELINE_ID=" in helper


def test_gitlab_every_tfgen_call_exists(
    gitlab: dict[str, Any], gitlab_jobs: dict[str, Any]
) -> None:
    called = {
        check_tfgen_call(c)
        for doc in (gitlab, gitlab_jobs)
        for job in doc.values()
        if isinstance(job, dict)
        for c in tfgen_calls(script(job))
    }
    assert called == {"render", "explain", "stacks", "plan", "apply"}


# --- the GitLab API helper ------------------------------------------------------------------------


@pytest.fixture()
def helper(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("gitlab_tfgen_ci", CI / "gitlab_tfgen_ci.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, value in {
        "CI_API_V4_URL": "http://127.0.0.1:9/api/v4",
        "CI_PROJECT_ID": "7",
        "CI_COMMIT_SHA": "m" * 40,
        "TFGEN_GITLAB_TOKEN": "token",
    }.items():
        monkeypatch.setenv(name, value)
    return module


def test_helper_finds_the_plan_pipeline_of_the_merged_head(
    helper: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[tuple[str, str]] = []
    responses = {
        f"/repository/commits/{'m' * 40}/merge_requests": [
            {"iid": 3, "state": "opened"},
            {"iid": 5, "state": "merged", "merge_commit_sha": "m" * 40, "sha": "h" * 40},
        ],
        "/merge_requests/5/pipelines": [
            {"id": 30, "status": "success", "sha": "x" * 40, "web_url": "u30"},  # an older head
            {"id": 20, "status": "failed", "sha": "h" * 40, "web_url": "u20"},
            {"id": 10, "status": "success", "sha": "h" * 40, "web_url": "u10"},
        ],
        "/pipelines/10/bridges": [
            {"name": "other", "downstream_pipeline": {"id": 99}},
            {"name": "plan", "downstream_pipeline": {"id": 11}},
        ],
    }

    def api(method: str, path: str, body: Any = None) -> Any:
        calls.append((method, path))
        return responses[path]

    monkeypatch.setattr(helper, "api", api)
    dotenv = tmp_path / "plans.env"
    assert helper.main(["find-plans", "--dotenv", str(dotenv)]) == 0
    assert dotenv.read_text() == "TFGEN_PLAN_PIPELINE_ID=11\nTFGEN_PLAN_MR_IID=5\n"
    assert ("GET", "/pipelines/30/bridges") not in calls


def test_helper_refuses_a_commit_without_a_merge_request(
    helper: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(helper, "api", lambda method, path, body=None: [])
    assert helper.main(["find-plans"]) == 1
    assert "nothing reviewed to apply" in capsys.readouterr().err


def test_helper_updates_its_own_note(
    helper: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sent: list[tuple[str, str, Any]] = []
    notes = [{"id": 1, "body": "a human"}, {"id": 2, "body": f"{helper.MARKER}\nold"}]

    def api(method: str, path: str, body: Any = None) -> Any:
        sent.append((method, path, body))
        return notes if method == "GET" else {}

    monkeypatch.setattr(helper, "api", api)
    report = tmp_path / "comment.md"
    report.write_text("## plan\n")
    assert helper.main(["note", str(report), "--mr", "5"]) == 0
    assert sent[-1] == ("PUT", "/merge_requests/5/notes/2", {"body": f"{helper.MARKER}\n## plan\n"})
    notes.pop()
    assert helper.main(["note", str(report), "--mr", "5"]) == 0
    assert sent[-1][:2] == ("POST", "/merge_requests/5/notes")


def test_helper_fetches_one_jobs_artifacts(
    helper: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import io
    import zipfile

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("infra/ecr/.tfgen/plans/prod--registry-policy.tfplan", b"plan")
        z.writestr("../escape.txt", b"no")

    def api(method: str, path: str, body: Any = None) -> Any:
        if path.startswith("/pipelines/11/jobs"):
            return [
                {"id": 1, "name": "plan prod/registry-policy", "status": "failed"},
                {"id": 2, "name": "plan prod/registry-policy", "status": "success"},
            ]
        assert path == "/jobs/2/artifacts"
        return archive.getvalue()

    monkeypatch.setattr(helper, "api", api)
    monkeypatch.chdir(tmp_path)
    assert (
        helper.main(["fetch-plan", "--pipeline", "11", "--job", "plan prod/registry-policy"]) == 0
    )
    assert (
        tmp_path / "infra/ecr/.tfgen/plans/prod--registry-policy.tfplan"
    ).read_bytes() == b"plan"
    assert not (tmp_path.parent / "escape.txt").exists()


# --- where tfgen is installed from --------------------------------------------------------------


def _install_lines() -> list[tuple[str, str]]:
    """(file, shell line) of every `pip install` in the pipelines' scripts."""
    scripts = [
        ("github-actions.yml", runs(job)) for job in load("github-actions.yml")["jobs"].values()
    ]
    for name in ("gitlab-ci.yml", "gitlab-tfgen-jobs.yml"):
        scripts += [(name, script(job)) for job in load(name).values() if isinstance(job, dict)]
    scripts.append(("gitlab-ci.yml", "\n".join(load("gitlab-ci.yml")["default"]["before_script"])))
    return [
        (name, line.strip())
        for name, text in scripts
        for line in text.splitlines()
        if "pip install" in line
    ]


def test_no_default_tfgen_package_anyone_could_publish(
    workflow: dict[str, Any], gitlab: dict[str, Any]
) -> None:
    # `tfgen` on PyPI is an unrelated project: the jobs hold the AWS roles and must never install
    # it by default. The variable comes from the repository's or project's settings only.
    assert workflow["env"]["TFGEN_PIP"] == "${{ vars.TFGEN_PIP }}"
    assert gitlab["variables"]["TFGEN_PIP"]["value"] == ""
    for name in ("github-actions.yml", "gitlab-ci.yml", "gitlab-tfgen-jobs.yml"):
        assert not re.search(r"TFGEN_PIP:\s*['\"]?tfgen\b", (CI / name).read_text()), name
    lines = _install_lines()
    assert len(lines) >= 8
    for name, line in lines:
        assert '"${TFGEN_PIP:?' in line, f"{name}: {line}"


@pytest.mark.parametrize(("name", "line"), sorted(set(_install_lines())))
def test_an_install_step_fails_clearly_until_tfgen_pip_is_set(name: str, line: str) -> None:
    fake_pip = 'pip() { echo "pip called: $*"; }\n'  # records the call instead of installing
    env = {"PATH": "/usr/bin:/bin"}
    unset = subprocess.run(
        ["bash", "-c", fake_pip + line], capture_output=True, text=True, env=env, check=False
    )
    assert unset.returncode != 0
    assert "pip called" not in unset.stdout
    assert "TFGEN_PIP: is not set, set the" in unset.stderr and "never plain tfgen" in unset.stderr
    ok = subprocess.run(
        ["bash", "-c", fake_pip + line],
        capture_output=True,
        text=True,
        env={**env, "TFGEN_PIP": "dist/tfgen-0.1.0-py3-none-any.whl"},
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip().endswith("install dist/tfgen-0.1.0-py3-none-any.whl") or (
        "--quiet dist/tfgen-0.1.0-py3-none-any.whl" in ok.stdout
    )


# --- the vendors' schemas (check-jsonschema ships them; no network) -----------------------------


def test_vendor_schemas() -> None:
    for schema, files in (
        ("vendor.github-workflows", ["github-actions.yml"]),
        ("vendor.gitlab-ci", ["gitlab-ci.yml", "gitlab-tfgen-jobs.yml"]),
    ):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "check_jsonschema",
                "--builtin-schema",
                schema,
                *(str(CI / f) for f in files),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_helper_runs_as_a_script() -> None:
    result = subprocess.run(
        [sys.executable, str(CI / "gitlab_tfgen_ci.py"), "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and "find-plans" in result.stdout
