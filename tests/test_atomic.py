"""An update is all or nothing from the user's point of view: whatever stops a render (a rename
that fails, Ctrl-C, kill -9 of the parent or of its forked child), the tree is the old one or the
new one after at most one more `tfgen render`, with no temporary file or staging directory left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.rendering import tree
from tfgen.cli import main_group
from tfgen.manifest import JOURNAL, MANIFEST


def spec_text(accounts: int, filters: str = "team-a/") -> str:
    """`accounts` accounts, each replicating to the next one: two stacks per account."""
    lines = ["version: 1", "accounts:"]
    lines += [f'  a{i:04d}: {{id: "{100000000000 + i}"}}' for i in range(accounts)]
    lines.append("replication:")
    for i in range(accounts):
        lines += [
            f"  - from: {{account: a{i:04d}, regions: [us-east-1]}}",
            f"    to: [{{account: a{(i + 1) % accounts:04d}, regions: [eu-west-1]}}]",
            f"    filters: [{filters}]",
        ]
    return "\n".join(lines) + "\n"


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main_group, list(args))
    return result.exit_code, result.stdout + result.stderr


def leftovers(*roots: Path) -> list[str]:
    """Temporary files and staging directories anywhere under or beside the roots."""
    found: list[str] = []
    for root in roots:
        for base in {root, root.parent}:
            for dirpath, dirnames, filenames in os.walk(base):
                found += [
                    str(Path(dirpath) / n) for n in (*dirnames, *filenames) if ".tfgen-tmp" in n
                ]
    return sorted(set(found))


@pytest.fixture
def trees(tmp_path: Path) -> dict[str, Any]:
    """A tree rendered from spec A, and what spec B (every stack changed) renders."""
    old, new = tmp_path / "a.yaml", tmp_path / "b.yaml"
    old.write_text(spec_text(12))
    new.write_text(spec_text(12, "team-b/").replace("a0011", "z0011"))  # a stack goes, one comes
    reference = tmp_path / "reference"  # A, then B: a0011's stacks stay, as orphans
    assert cli("render", str(old), "--out", str(reference))[0] == 0
    assert cli("render", str(new), "--out", str(reference))[0] == 0
    out = tmp_path / "tree"
    assert cli("render", str(old), "--out", str(out))[0] == 0
    return {"old": old, "new": new, "out": out, "before": tree(out), "after": tree(reference)}


def _patch_renames(
    monkeypatch: pytest.MonkeyPatch, at: int, action: Callable[[], None]
) -> dict[str, int]:
    """Call `action` at the `at`-th rename of a rendered file into the tree."""
    real = os.replace
    seen = {"renames": 0}

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if str(dst).endswith(".tf"):
            seen["renames"] += 1
            if seen["renames"] == at:
                action()
        real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    return seen


def test_a_failing_rename_is_finished_by_the_next_render(
    trees: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = trees["out"]

    def fail() -> None:
        raise OSError(5, "Input/output error")

    _patch_renames(monkeypatch, 7, fail)
    code, text = cli("render", str(trees["new"]), "--out", str(out))
    assert code == 1 and "Traceback" not in text
    assert "cannot finish updating" in text and "run `tfgen render` again" in text
    assert (out / JOURNAL).is_file()
    code, text = cli("stacks", str(out))
    assert code == 1 and "a render was interrupted" in text  # runs refuse the half-done tree
    monkeypatch.undo()
    code, text = cli("render", str(trees["new"]), "--out", str(out))
    assert code == 0, text
    assert "an interrupted render was finished" in text
    assert tree(out) == trees["after"]
    assert not (out / JOURNAL).exists() and leftovers(out) == []
    assert cli("stacks", str(out))[0] == 0


def test_ctrl_c_during_the_renames_waits_for_them(
    trees: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = trees["out"]

    def interrupt() -> None:  # from another thread, as a terminal's Ctrl-C arrives
        sender = threading.Thread(target=os.kill, args=(os.getpid(), signal.SIGINT))
        sender.start()
        sender.join()
        time.sleep(0.01)

    seen = _patch_renames(monkeypatch, 3, interrupt)
    code, text = cli("render", str(trees["new"]), "--out", str(out))
    assert code == 130, text  # interrupted, but only after the last rename
    assert seen["renames"] > 3
    assert tree(out) == trees["after"]
    assert not (out / JOURNAL).exists() and leftovers(out) == []


def test_ctrl_c_while_staging_leaves_the_old_tree(
    trees: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tfgen.render import journal

    out = trees["out"]
    real = journal._stage
    calls = {"n": 0}

    def stage(*args: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        real(*args)

    monkeypatch.setattr(journal, "_stage", stage)
    code, _ = cli("render", str(trees["new"]), "--out", str(out))
    assert code == 130
    assert tree(out) == trees["before"]
    assert not (out / JOURNAL).exists() and leftovers(out) == []


def _render_process(spec: Path, out: Path, tmp: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TMPDIR": str(tmp)}  # a crash log would land here
    return subprocess.Popen(
        [sys.executable, "-m", "tfgen", "-q", "render", str(spec), "--out", str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for(predicate: Callable[[], bool], proc: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if predicate():
            return True
        time.sleep(0.001)
    return False


def _phase(out: Path) -> str | None:
    try:
        return str(json.loads((out / JOURNAL).read_text())["phase"])
    except (OSError, ValueError, KeyError):
        return None


@pytest.mark.parametrize("phase", ["staging", "renaming"])
def test_kill_9_during_an_update(tmp_path: Path, phase: str) -> None:
    old, new = tmp_path / "a.yaml", tmp_path / "b.yaml"
    old.write_text(spec_text(400))
    new.write_text(spec_text(400, "team-b/"))
    out, reference, crashes = tmp_path / "tree", tmp_path / "reference", tmp_path / "tmp"
    crashes.mkdir()
    assert cli("render", str(new), "--out", str(reference))[0] == 0
    assert cli("render", str(old), "--out", str(out))[0] == 0
    before = tree(out)
    proc = _render_process(new, out, crashes)
    caught = _wait_for(lambda: _phase(out) == phase, proc)
    assert caught or phase == "renaming"  # staging 400 files takes long enough to catch
    proc.kill()
    proc.wait()
    if caught:
        assert cli("stacks", str(out))[0] == 1  # half-done: refused until the next render
        if phase == "staging":
            assert tree(out) == before | {k: v for k, v in tree(out).items() if "tfgen-tmp" in k}
    else:  # it finished before the kill
        assert tree(out) == tree(reference)
    code, text = cli("render", str(new), "--out", str(out))
    assert code == 0, text
    assert tree(out) == tree(reference)
    assert leftovers(out) == [] and not (out / JOURNAL).exists()
    assert list(crashes.iterdir()) == []


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "\nState:\tZ" in status


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc")
def test_kill_9_of_a_two_process_render_takes_its_child_along(tmp_path: Path) -> None:
    from tfgen.render import parallel

    if (os.cpu_count() or 1) < 2:
        pytest.skip("the two-process render needs two CPUs")
    spec, out, crashes = tmp_path / "big.yaml", tmp_path / "tree", tmp_path / "tmp"
    spec.write_text(spec_text(parallel.PARALLEL_MIN_ACCOUNTS + 100))
    crashes.mkdir()
    proc = _render_process(spec, out, crashes)
    staging = tmp_path / f".tree.tfgen-tmp-{proc.pid}"
    assert _wait_for(lambda: bool(_children(proc.pid)) and staging.is_dir(), proc)
    (child,) = _children(proc.pid)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _gone(child), "the forked child outlived its parent"
    assert not out.exists() and staging.is_dir()  # the new tree never appeared half-written
    code, text = cli("render", str(spec), "--out", str(out))
    assert code == 0, text
    assert not staging.exists() and leftovers(out) == []  # the dead render's staging is gone
    assert list(crashes.iterdir()) == []
    assert (out / MANIFEST).is_file()
