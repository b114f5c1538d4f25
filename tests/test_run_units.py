"""The runner's pure parts and small effects: hints, manifest, hashes, scheduler, exit codes,
reports, lock, binary lookup. (Everything that runs terraform is in test_run_terraform.py.)"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from rich.console import Console

from tests import runkit, tfenv
from tfgen import console as tfgen_console
from tfgen import report
from tfgen.dirlock import DirLock, LockedError
from tfgen.manifest import ManifestError, ManifestStack
from tfgen.manifest import load as load_manifest
from tfgen.run import hashes
from tfgen.run.errors import TerraformNotFoundError
from tfgen.run.hints import first_error, hint_for
from tfgen.run.model import (
    GrantDelta,
    InSync,
    PlanSummary,
    RegistryEvidence,
    ReplicationDelta,
    ResourceChange,
    StackResult,
    Status,
    StepResult,
)
from tfgen.run.scheduler import apply_order, destroy_order, run_stacks, unordered
from tfgen.run.selection import select
from tfgen.run.terraform import ProcessGroups, check_version, find_terraform, parse_version
from tfgen.run.workspace import log_name

# --- hints ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "word"),
    [
        ("Error: Failed to query available provider packages", "downloaded"),
        ("could not connect to registry.terraform.io: failed to request discovery", "downloaded"),
        ("Error: Failed to install provider", "downloaded"),
        (
            "error configuring Terraform AWS Provider: no valid credential sources for Terraform "
            "AWS Provider found.\nNo valid credential sources found",
            "credentials",
        ),
        (
            "AccessDenied: User: arn:aws:iam::1:user/x is not authorized to perform: sts:AssumeRole",
            "credentials",
        ),
        ("failed to get shared config profile, prod", "credentials"),
        ("NoCredentialProviders: no valid providers in chain", "credentials"),
        ("Error: Error acquiring the state lock\nLock Info:\n  ID: 1234", "locked"),
        ("Error: Failed to get existing workspaces: S3 bucket does not exist.", "bucket"),
        ("NoSuchBucket: The specified bucket does not exist", "bucket"),
        (
            "Error: Unsupported block type\n  on main.tf line 28:\n  28:     precondition {",
            ">= 1.5",
        ),
        ("Error: Unsupported Terraform Core version", ">= 1.5"),
    ],
)
def test_hints(output: str, word: str) -> None:
    assert word in hint_for(output)


def test_no_hint_for_unknown_failure() -> None:
    assert hint_for("Error: Unsupported argument") == ""


def test_fail_fast_stops_on_the_first_failures_alike_of_the_environment() -> None:
    from tfgen.run.failfast import FailFast

    def failed(cause: str, i: int) -> StackResult:
        return StackResult(
            ManifestStack(f"s{i}/replication", f"p{i}", "replication", 2),
            "plan",
            Status.FAILED,
            cause=cause,
        )

    watch = FailFast(after=3)
    assert [watch.observe(failed("credentials", i)) for i in range(2)] == ["", ""]
    assert "the first 3 stacks failed alike (credentials)" in watch.observe(
        failed("credentials", 3)
    )
    assert watch.observe(failed("credentials", 4)) == ""  # once

    # one stack's own trouble (a state lock), or an unrecognised error: never
    watch = FailFast(after=2)
    assert not any(watch.observe(failed(c, i)) for i, c in enumerate(["state lock"] * 3 + [""] * 3))
    # once any stack succeeded, the environment works: never
    watch = FailFast(after=2)
    watch.observe(StackResult(P1, "plan", Status.OK))
    assert not any(watch.observe(failed("credentials", i)) for i in range(4))


def test_first_error() -> None:
    assert first_error("\nError: Unsupported argument\n\n  on main.tf") == "Unsupported argument"
    assert first_error("╷\n│ Error: Invalid provider  \n│ more") == "Invalid provider"
    assert first_error("all good") == ""


# --- manifest and hashes --------------------------------------------------------------------


def _tree(tmp_path: Path) -> Path:
    return runkit.build_tree(
        tmp_path / "d",
        [
            runkit.StackDef("prod/registry-policy", runkit.resource()),
            runkit.StackDef(
                "build/replication",
                runkit.resource(),
                depends_on=("prod/registry-policy",),
                modules=("modules/m",),
            ),
        ],
        modules={"m": runkit.resource("inner")},
    )


def test_manifest_loads_and_selects(tmp_path: Path) -> None:
    manifest = load_manifest(_tree(tmp_path))
    assert [s.id for s in manifest.stacks] == ["prod/registry-policy", "build/replication"]
    assert manifest.stacks[1].depends_on == ("prod/registry-policy",)
    assert [s.id for s in select(manifest.stacks, ["*/replication"])] == ["build/replication"]
    assert select(manifest.stacks, []) == manifest.stacks
    assert log_name("build/replication") == "build__replication"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "not found"),
        ("{", "not valid JSON"),
        ('{"manifest_version": 9}', "not supported"),
        ('{"manifest_version": 1, "stacks": [{"id": "a"}]}', "missing key 'path'"),
        (
            '{"manifest_version": 1, "stacks": [{"id": "a", "path": "../x", "kind": "k",'
            ' "phase": 1}]}',
            "inside",
        ),
    ],
)
def test_manifest_errors(tmp_path: Path, body: str | None, message: str) -> None:
    if body is not None:
        (tmp_path / "tfgen.manifest.json").write_text(body)
    with pytest.raises(ManifestError, match=message):
        load_manifest(tmp_path)


def test_stack_hash_follows_disk_not_manifest(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    manifest = load_manifest(root)
    policy, replication = manifest.stacks
    before = {s.id: hashes.stack_hash(manifest, s) for s in manifest.stacks}
    # A module edit changes every stack using the module, and only those.
    (root / "modules/m/main.tf").write_text(runkit.resource("inner", "2"))
    assert hashes.stack_hash(manifest, replication) != before[replication.id]
    assert hashes.stack_hash(manifest, policy) == before[policy.id]
    # A hand-added .tf file is part of the stack too; run-time files are not.
    (root / "stacks/prod/registry-policy/extra.tf").write_text("# added\n")
    assert hashes.stack_hash(manifest, policy) != before[policy.id]
    (root / "stacks/prod/registry-policy/extra.tf").unlink()
    (root / "stacks/prod/registry-policy/terraform.tfstate").write_text("{}")
    (root / "stacks/prod/registry-policy/.terraform").mkdir()
    (root / "stacks/prod/registry-policy/.terraform/x.tf").write_text("# cache\n")
    assert hashes.stack_hash(manifest, policy) == before[policy.id]


def test_changed_against_applied(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    manifest = load_manifest(root)
    path = tmp_path / "applied.json"
    assert hashes.read_applied(path) == {}
    assert hashes.changed(manifest, manifest.stacks, {}) == list(manifest.stacks)
    hashes.write_applied(path, {s.id: hashes.stack_hash(manifest, s) for s in manifest.stacks})
    applied = hashes.read_applied(path)
    assert hashes.changed(manifest, manifest.stacks, applied) == []
    (root / "stacks/build/replication/main.tf").write_text(runkit.resource("r", "2"))
    assert [s.id for s in hashes.changed(manifest, manifest.stacks, applied)] == [
        "build/replication"
    ]


def test_one_hasher_reads_each_file_once_and_hashes_as_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hashing every stack of a tree re-read the shared modules for each stack and scanned the
    whole manifest per stack (quadratic at 20,000 stacks). One Hasher reads each file once, and
    the hashes are those applied records already hold: sha256 over "path NUL sha256 NL", sorted."""
    import hashlib

    from tfgen.manifest import TreeGuard

    root = runkit.build_tree(
        tmp_path / "d",
        [
            runkit.StackDef(f"{name}/replication", runkit.resource(), modules=("modules/m",))
            for name in ("a", "b", "c")
        ],
        modules={"m": runkit.resource("inner")},
    )
    manifest = load_manifest(root)
    reads: list[str] = []
    real = TreeGuard.read

    def counted(self: TreeGuard, rel: str) -> bytes | None:
        reads.append(rel)
        return real(self, rel)

    monkeypatch.setattr(TreeGuard, "read", counted)
    hasher = hashes.Hasher(manifest)
    found = {s.id: hasher.hash(s) for s in manifest.stacks}
    assert sorted(reads) == sorted({f for s in manifest.stacks for f in hasher.files(s)})
    for stack in manifest.stacks:
        digest = hashlib.sha256()
        for rel in hasher.files(stack):
            sha = hashlib.sha256((root / rel).read_bytes()).hexdigest()
            digest.update(f"{rel}\0{sha}\n".encode())
        assert found[stack.id] == digest.hexdigest() == hashes.stack_hash(manifest, stack)


# --- scheduler ------------------------------------------------------------------------------

P1 = ManifestStack("a/registry-policy", "stacks/a/registry-policy", "registry-policy", 1)
P2 = ManifestStack("b/registry-policy", "stacks/b/registry-policy", "registry-policy", 1)
R1 = ManifestStack("c/replication", "stacks/c/replication", "replication", 2, depends_on=(P1.id,))
R2 = ManifestStack("d/replication", "stacks/d/replication", "replication", 2, depends_on=(P2.id,))
R3 = ManifestStack("e/replication", "stacks/e/replication", "replication", 2)
ALL = (R3, R1, P1, R2, P2)


class Recorder:
    """A plain Python action (no terraform): records start/end times, fails chosen stacks."""

    def __init__(self, fail: set[str] = frozenset(), delay: float = 0.05) -> None:
        self.fail = fail
        self.delay = delay
        self.spans: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def __call__(self, stack: ManifestStack) -> StackResult:
        start = time.monotonic()
        time.sleep(self.delay)
        with self.lock:
            self.spans[stack.id] = (start, time.monotonic())
        status = Status.FAILED if stack.id in self.fail else Status.OK
        return StackResult(stack, "apply", status)


def test_apply_order_phases_and_gating() -> None:
    action = Recorder(fail={P1.id})
    results = run_stacks(
        ALL,
        action,
        action_name="apply",
        parallelism=4,
        order=apply_order(ALL),
        groups=ProcessGroups(),
    )
    assert [r.stack.id for r in results] == [s.id for s in ALL]  # input order
    by_id = {r.stack.id: r for r in results}
    assert by_id[R1.id].status is Status.BLOCKED
    assert "a/registry-policy failed" in by_id[R1.id].reason
    assert by_id[R2.id].status is Status.OK and by_id[R3.id].status is Status.OK
    last_policy_end = max(action.spans[s.id][1] for s in (P1, P2))
    first_replication_start = min(action.spans[s.id][0] for s in (R2, R3))
    assert last_policy_end <= first_replication_start


def test_a_rule_whose_grant_has_no_saved_plan_is_blocked() -> None:
    """Apply runs only stacks with saved plans; one whose destination's grant stack is unsettled
    (no saved plan, e.g. its plan failed, and not applied as it is) must not run: the rule
    would exist before its grant."""
    planned = [s for s in ALL if s.id != P1.id]
    action = Recorder()
    results = run_stacks(
        planned,
        action,
        action_name="apply",
        parallelism=4,
        order=apply_order(planned, [P1]),
        groups=ProcessGroups(),
    )
    by_id = {r.stack.id: r for r in results}
    assert by_id[R1.id].status is Status.BLOCKED
    assert "a/registry-policy has no saved plan" in by_id[R1.id].reason
    assert R1.id not in action.spans
    assert {by_id[s.id].status for s in (P2, R2, R3)} == {Status.OK}
    assert report.exit_code(results) == 1


def test_destroy_order_reverses_and_keeps_grants_of_failed_rules() -> None:
    action = Recorder(fail={R2.id})
    results = run_stacks(
        ALL,
        action,
        action_name="destroy",
        parallelism=2,
        order=destroy_order(ALL),
        groups=ProcessGroups(),
    )
    by_id = {r.stack.id: r for r in results}
    assert by_id[P2.id].status is Status.BLOCKED  # its rule is still there
    assert by_id[P1.id].status is Status.OK
    assert max(action.spans[s.id][1] for s in (R1, R3)) <= action.spans[P1.id][0]


def test_parallelism_is_bounded() -> None:
    running = 0
    peak = 0
    lock = threading.Lock()

    def action(stack: ManifestStack) -> StackResult:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.03)
        with lock:
            running -= 1
        return StackResult(stack, "plan", Status.OK)

    stacks = [ManifestStack(f"s{i}/replication", f"p{i}", "replication", 2) for i in range(9)]
    run_stacks(
        stacks, action, action_name="plan", parallelism=3, order=unordered(), groups=ProcessGroups()
    )
    assert peak == 3


def test_interrupt_cancels_what_has_not_started() -> None:
    groups = ProcessGroups()

    def action(stack: ManifestStack) -> StackResult:
        groups.interrupt()
        return StackResult(stack, "plan", Status.INTERRUPTED, "interrupted")

    stacks = [ManifestStack(f"s{i}/replication", f"p{i}", "replication", 2) for i in range(5)]
    results = run_stacks(
        stacks, action, action_name="plan", parallelism=1, order=unordered(), groups=groups
    )
    assert results[0].status is Status.INTERRUPTED
    assert {r.status for r in results[1:]} == {Status.CANCELLED}


def test_dependency_cycle_fails_instead_of_hanging() -> None:
    a = ManifestStack("a/replication", "a", "replication", 2, depends_on=("b/replication",))
    b = ManifestStack("b/replication", "b", "replication", 2, depends_on=("a/replication",))
    results = run_stacks(
        [a, b],
        Recorder(),
        action_name="apply",
        parallelism=2,
        order=apply_order([a, b]),
        groups=ProcessGroups(),
    )
    assert all("cycle" in r.reason for r in results)


def test_an_exception_in_one_stack_does_not_lose_the_others() -> None:
    def action(stack: ManifestStack) -> StackResult:
        if stack is R3:
            raise RuntimeError("bug")
        return StackResult(stack, "plan", Status.OK)

    results = run_stacks(
        ALL, action, action_name="plan", parallelism=2, order=unordered(), groups=ProcessGroups()
    )
    assert [r.status for r in results].count(Status.OK) == 4
    assert "internal error" in results[0].reason


# --- exit codes and reports -----------------------------------------------------------------


def _result(status: Status, changes: bool = False, stack: ManifestStack = P1) -> StackResult:
    summary = PlanSummary(add=1) if changes else PlanSummary()
    return StackResult(stack, "plan", status, summary=summary, changes=changes)


@pytest.mark.parametrize(
    ("statuses", "detailed", "interrupted", "code"),
    [
        ([(Status.OK, False)], False, False, 0),
        ([(Status.OK, True)], False, False, 0),
        ([(Status.OK, False)], True, False, 0),
        ([(Status.OK, False), (Status.OK, True)], True, False, 2),
        ([(Status.OK, True), (Status.FAILED, False)], True, False, 1),
        ([(Status.FAILED, False), (Status.OK, True)], True, False, 1),
        ([(Status.OK, True), (Status.SKIPPED, False)], True, False, 2),
        ([(Status.OK, True), (Status.CANCELLED, False)], True, True, 130),
        ([], True, False, 0),
    ],
)
def test_exit_code_precedence(
    statuses: list[tuple[Status, bool]], detailed: bool, interrupted: bool, code: int
) -> None:
    results = [_result(s, c) for s, c in statuses]
    assert report.exit_code(results, detailed=detailed, interrupted=interrupted) == code
    # Order of completion never matters.
    assert report.exit_code(results[::-1], detailed=detailed, interrupted=interrupted) == code


def _info(command: str = "plan") -> report.RunInfo:
    return report.RunInfo(command, Path("/d"), "/bin/terraform", "1.0.3", 0.0, 1.0, 2, True)


def test_json_report_shape() -> None:
    step = StepResult("plan", ("terraform", "plan"), 2, 0.5)
    results = [
        StackResult(
            P1,
            "plan",
            Status.OK,
            summary=PlanSummary(add=2),
            changes=True,
            steps=(step,),
            log=Path("/d/.tfgen/logs/a__registry-policy.log"),
        ),
        StackResult(
            R1, "plan", Status.FAILED, "`plan` exited 1", hint="h", failed_command="terraform plan"
        ),
    ]
    data = report.report_dict(results, _info(), 1)
    assert data["report_version"] == 1
    assert data["status"] == "partial"
    assert data["totals"]["stacks"] == 2 and data["totals"]["failed"] == 1
    assert data["totals"]["add"] == 2
    first, second = data["stacks"]
    assert first["commands"][0]["exit_code"] == 2
    assert first["summary"]["add"] == 2
    assert second["hint"] == "h" and second["summary"] is None
    runkit.check_report(json.loads(json.dumps(data)))


def test_json_report_with_ecr_summary_matches_schema() -> None:
    pytest.importorskip("jsonschema")
    summary = PlanSummary(
        add=1,
        change=1,
        replication=(
            ReplicationDelta(
                "r",
                rules_added=("all repositories -> 2/us-east-1",),
                destinations_added=("2/us-east-1",),
            ),
        ),
        grants=(GrantDelta("g", principals_added=("arn:aws:iam::1:root",), sids_added=("S",)),),
        resources=(ResourceChange("g", "aws_ecr_registry_policy", "create"),),
    )
    results = [StackResult(P1, "plan", Status.OK, summary=summary, changes=True, started=1.5)]
    data = report.report_dict(results, _info(), 2)
    runkit.check_report(data)
    assert data["stacks"][0]["summary"]["grants"][0]["sids_added"] == ["S"]


def test_markdown_stays_under_github_limit() -> None:
    huge = StepResult("plan", ("terraform", "plan"), 2, 1.0, output="~ change\n" * 5000)
    results = [
        StackResult(
            ManifestStack(f"acct{i:04d}/replication", "p", "replication", 2),
            "plan",
            Status.OK,
            summary=PlanSummary(change=1),
            changes=True,
            steps=(huge,),
        )
        for i in range(1000)
    ]
    results.append(StackResult(P1, "plan", Status.FAILED, "`plan` exited 1"))
    text = report.markdown(results, _info(), 1, "report.json")
    assert len(text) < report.MARKDOWN_LIMIT
    assert "<details>" in text and "more stacks not shown: see report.json" in text
    # Failures come first, so they are never the part that is cut.
    assert text.index("a/registry-policy") < text.index("acct0000")


def test_markdown_fence_survives_backticks_in_output() -> None:
    step = StepResult("plan", ("terraform", "plan"), 1, 1.0, output="x ```` y\nError: boom")
    r = StackResult(P1, "plan", Status.FAILED, "`plan` exited 1: boom", steps=(step,))
    text = report.markdown([r], _info(), 1, None)
    assert "`````\nx ```` y\nError: boom\n`````" in text


def test_markdown_lists_only_changes_and_failures() -> None:
    results = [_result(Status.OK, False, P1), _result(Status.OK, True, R1)]
    text = report.markdown(results, _info(), 2, None)
    assert "c/replication" in text and "a/registry-policy" not in text
    assert "1 stack has no changes and is not listed" in text


def _verified(stack: ManifestStack, notes: tuple[str, ...] = ()) -> StackResult:
    evidence = InSync(
        "ab" * 32,
        1_700_000_000.25,
        (RegistryEvidence("a", "111111111111", "us-east-1", ("registry policy",), notes),),
    )
    return StackResult(stack, "verify", Status.OK, started=evidence.verified_at, in_sync=evidence)


def test_in_sync_stacks_are_reported_with_their_evidence(tmp_path: Path) -> None:
    """The table, the JSON report (against the schema) and the Markdown comment say which stacks
    were not planned and what proves them in sync; planned stacks say why they were planned."""
    planned = StackResult(
        R1,
        "plan",
        Status.OK,
        summary=PlanSummary(change=1),
        changes=True,
        planned_because="live differs: c/us-east-1: registry policy document: missing",
    )
    results = [_verified(P1, ("rule order <!--",)), planned]
    data = report.report_dict(results, _info(), 2)
    runkit.check_report(data)
    first, second = data["stacks"]
    assert first["action"] == "verify" and first["changes"] is False
    assert first["in_sync"] == {
        "content_hash": "ab" * 32,
        "verified_at": "2023-11-14T22:13:20.250Z",
        "registries": [
            {
                "account": "a",
                "registry": "111111111111/us-east-1",
                "settings": ["registry policy"],
                "notes": ["rule order <!--"],
            }
        ],
    }
    assert first["planned_because"] is None and second["in_sync"] is None
    assert second["planned_because"].startswith("live differs: ")
    assert data["totals"]["in_sync"] == 1 and data["totals"]["ok"] == 2
    # A verify without its evidence, or with commands, is not a report tfgen writes.
    jsonschema = pytest.importorskip("jsonschema")
    for broken in ({**first, "in_sync": None}, {**first, "changes": True}):
        with pytest.raises(jsonschema.ValidationError):
            runkit.check_report({**data, "stacks": [broken]})

    console = Console(record=True, width=300)
    report.print_table(console, results, _info())
    table = console.export_text()
    assert (
        "in sync, verified live: files as last applied (abababababab); 111111111111/us-east-1"
        in table
    )
    assert "changes (live differs)" in table
    assert "1 in sync, verified live" in table

    text = report.markdown(results, _info(), 2, None)
    assert "1 stack in sync, verified live, and not planned" in text
    assert "planned because: live differs: c/us-east-1" in text
    assert "✔️ 1 stack in sync, verified live</summary>" in text
    assert (
        "registries read live at 2023-11-14T22:13:20.250Z; 111111111111/us-east-1 (a): "
        "registry policy as desired; note: rule order &lt;!--"
    ) in text


def test_the_table_folds_many_in_sync_stacks_into_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stacks = [
        ManifestStack(f"acct{i:05d}/registry-policy", "p", "registry-policy", 1)
        for i in range(report.TABLE_IN_SYNC_ROWS + 1)
    ]
    planned = StackResult(ManifestStack("x/replication", "q", "replication", 2), "plan", Status.OK)
    results = [planned, *(_verified(s) for s in stacks)]
    console = Console(record=True, width=300)
    report.print_table(console, results, _info())
    text = console.export_text()
    assert "x/replication" in text and "acct00000" not in text
    assert "21 stacks in sync, verified live, not planned (-v lists them" in text
    monkeypatch.setattr(tfgen_console, "verbosity", 1)
    report.print_table(console, results, _info())
    assert "acct00020/registry-policy" in console.export_text()


def test_markdown_cuts_the_in_sync_list_to_its_budget() -> None:
    stacks = [
        ManifestStack(f"acct{i:05d}/registry-policy", "p", "registry-policy", 1)
        for i in range(20_000)
    ]
    text = report.markdown([_verified(s) for s in stacks], _info(), 0, "report.json")
    assert len(text) < report.MARKDOWN_LIMIT
    assert "20000 stacks in sync, verified live" in text
    assert "more: see report.json" in text


# --- lock and terraform lookup --------------------------------------------------------------


def test_second_lock_on_same_dir_is_refused(tmp_path: Path) -> None:
    path = tmp_path / ".tfgen" / "lock"
    with (
        DirLock(path, "plan"),
        pytest.raises(LockedError, match=r"another tfgen is already running.*tfgen plan"),
    ):
        DirLock(path, "apply").__enter__()
    with DirLock(path, "apply"):  # released on exit
        pass


def test_find_terraform_order(tmp_path: Path, terraform_bin: Path) -> None:
    env = {"PATH": str(terraform_bin.parent)}
    assert find_terraform(None, env) == str(terraform_bin)
    assert find_terraform(str(terraform_bin), {"PATH": ""}) == str(terraform_bin)
    assert find_terraform(None, {"PATH": "", "TFGEN_TERRAFORM": str(terraform_bin)}) == str(
        terraform_bin
    )
    # the version the rendered stacks need, as the README says, not the oldest tfgen can drive
    with pytest.raises(TerraformNotFoundError, match=r"neither `terraform` nor `tofu`.*>= 1\.5 "):
        find_terraform(None, {"PATH": str(tmp_path)})
    with pytest.raises(TerraformNotFoundError, match="--terraform=nope"):
        find_terraform("nope", {"PATH": str(tmp_path)})


def test_version_check(terraform_bin: Path) -> None:
    info = check_version(str(terraform_bin), {"CHECKPOINT_DISABLE": "1"})
    expected = tfenv.terraform_version(terraform_bin)
    assert expected is not None and expected[:2] >= tfenv.MIN_TERRAFORM
    assert info.version == ".".join(map(str, expected)) and info.flavor == "terraform"
    # A real executable that is not terraform.
    with pytest.raises(TerraformNotFoundError, match="did not answer `version -json`"):
        check_version("/bin/true", {})
    assert parse_version("v1.15.5") == (1, 15, 5)


def test_live_progress_on_a_terminal_and_in_ci() -> None:
    import io

    from rich.console import Console

    from tfgen.run.events import Event

    for terminal in (True, False):
        out = io.StringIO()
        console = Console(file=out, force_terminal=terminal, width=100)
        with report.LiveProgress(console, [P1, R1], "plan") as progress:
            progress(Event("step", P1, step="init"))
            progress(Event("step", R1, step="plan"))
            progress(Event("done", P1, result=_result(Status.OK, True, P1)))
        text = out.getvalue()
        if terminal:
            assert "tfgen plan: 1/2 done, 1 running: 1 ok, 0 failed;" in text
            assert "c/replication" in text
        else:
            assert text == "[1/2] a/registry-policy: ok (changes)\n"


def test_cache_gate_runs_an_exclusive_step_alone() -> None:
    import threading
    import time

    from tfgen.run.cachegate import CacheGate

    gate = CacheGate()
    active: list[str] = []
    overlaps: list[tuple[str, ...]] = []
    lock = threading.Lock()

    def work(kind: str) -> None:
        guard = gate.exclusive() if kind == "init" else gate.shared()
        with guard:
            with lock:
                active.append(kind)
                overlaps.append(tuple(active))
            time.sleep(0.02)
            with lock:
                active.remove(kind)

    threads = [threading.Thread(target=work, args=(k,)) for k in ["plan", "init", "plan"] * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(snapshot == ("init",) for snapshot in overlaps if "init" in snapshot)
    assert any(snapshot.count("plan") == 2 for snapshot in overlaps)  # readers do share
