"""A rendered tree is trusted only as far as its bytes: `render --check` compares every owned file
and the manifest by content, the no-op fast path cannot miss an edit whose mtime was restored, and
plan, apply and `stacks` refuse a tree that does not match its manifest."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.rendering import tree
from tests.test_writer import MESH, THREE, TWO
from tfgen.cli import main_group
from tfgen.manifest import JOURNAL, MANIFEST

MAIN = "stacks/americas/replication/main.tf"


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main_group, list(args))
    return result.exit_code, result.stdout + result.stderr


@pytest.fixture
def rendered(tmp_path: Path) -> Path:
    out = tmp_path / "tree"
    assert cli("render", str(MESH), "--out", str(out))[0] == 0
    return out


def _edit_keeping_size_and_times(path: Path, old: bytes, new: bytes) -> None:
    """An edit as `cp -p`, `rsync -a`, `tar` or `touch -r` leave it: same size, same mtime."""
    st = path.stat()
    data = path.read_bytes()
    assert old in data and len(old) == len(new)
    path.write_bytes(data.replace(old, new, 1))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns


def test_check_and_render_see_an_edit_with_a_restored_mtime(rendered: Path) -> None:
    main = rendered / MAIN
    original = main.read_bytes()
    _edit_keeping_size_and_times(main, b"shared/", b"SHARED/")
    code, out = cli("render", str(MESH), "--out", str(rendered), "--check")
    assert code == 1 and MAIN in out and "out of date" in out
    code, out = cli("render", str(MESH), "--out", str(rendered))
    assert code == 0, out
    assert main.read_bytes() == original  # repaired, not skipped by the fast path


def test_render_repairs_a_manifest_edited_with_a_restored_mtime(rendered: Path) -> None:
    manifest = rendered / MANIFEST
    original = manifest.read_bytes()
    _edit_keeping_size_and_times(manifest, b'"phase": 2', b'"phase": 1')
    code, out = cli("render", str(MESH), "--out", str(rendered))
    assert code == 1 and "phase" in out  # a replication stack in phase 1: refused, not trusted
    manifest.write_bytes(original)
    digest = json.loads(original)["files"]["stacks/americas/replication/main.tf"].encode()
    _edit_keeping_size_and_times(manifest, digest, digest[::-1])  # a wrong hash, same size
    code, out = cli("render", str(MESH), "--out", str(rendered))
    assert code == 0, out
    assert manifest.read_bytes() == original


def _manifest(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / MANIFEST).read_text())
    return data


def _drop_a_stack(data: dict[str, Any]) -> None:
    data["stacks"].pop()


def _add_a_stack(data: dict[str, Any]) -> None:
    extra = dict(data["stacks"][0], id="extra/replication", path="stacks/extra/replication")
    data["stacks"].append(extra)


def _swap_phases(data: dict[str, Any]) -> None:
    for stack in data["stacks"]:  # a replication stack called a registry-policy one: phase 1
        if stack["kind"] == "replication":
            stack["kind"], stack["phase"] = "registry-policy", 1
            return


def _drop_dependencies(data: dict[str, Any]) -> None:
    for stack in data["stacks"]:
        stack["depends_on"] = []


def _reorder(data: dict[str, Any]) -> None:
    data["stacks"].reverse()


@pytest.mark.parametrize(
    "tamper", [_drop_a_stack, _add_a_stack, _swap_phases, _drop_dependencies, _reorder]
)
def test_check_fails_on_a_tampered_manifest(
    rendered: Path, tamper: Callable[[dict[str, Any]], None]
) -> None:
    data = _manifest(rendered)
    tamper(data)
    (rendered / MANIFEST).write_text(json.dumps(data))
    code, out = cli("render", str(MESH), "--out", str(rendered), "--check")
    assert code == 1, out
    assert MANIFEST in out and "out of date" in out


def test_check_fails_on_a_deleted_manifest(rendered: Path) -> None:
    (rendered / MANIFEST).unlink()
    code, out = cli("render", str(MESH), "--out", str(rendered), "--check")
    assert code == 1 and re.search(rf"would create +{re.escape(str(rendered / MANIFEST))}", out)


def test_check_fails_when_the_spec_dropped_a_stack(tmp_path: Path) -> None:
    spec, out = tmp_path / "tfgen.yaml", tmp_path / "tree"
    spec.write_text(THREE)
    assert cli("render", str(spec), "--out", str(out))[0] == 0
    spec.write_text(TWO)
    code, text = cli("render", str(spec), "--out", str(out), "--check")
    assert code == 1 and MANIFEST in text  # c/registry-policy becomes an orphan
    assert cli("render", str(spec), "--out", str(out))[0] == 0
    assert cli("render", str(spec), "--out", str(out), "--check")[0] == 0


# --- plan, apply and stacks -----------------------------------------------------------------------


def _changed(out: Path) -> str:
    (out / MAIN).write_text((out / MAIN).read_text() + "# edited\n")
    return f"{MAIN}: changed since tfgen rendered it"


def _missing(out: Path) -> str:
    (out / MAIN).unlink()
    return f"{MAIN}: listed, but missing"


def _unlisted(out: Path) -> str:
    (out / "stacks/americas/replication/backdoor.tf").write_text('output "x" { value = 1 }\n')
    return "stacks/americas/replication/backdoor.tf: not rendered by tfgen"


def _unlisted_in_a_module(out: Path) -> str:
    (out / "modules/ecr-replication/extra.tf.json").write_text("{}\n")
    return "modules/ecr-replication/extra.tf.json: not rendered by tfgen"


def _interrupted(out: Path) -> str:
    (out / JOURNAL).write_text("{}")
    return "a render was interrupted"


@pytest.mark.parametrize("command", ["stacks", "plan", "apply"])
@pytest.mark.parametrize(
    "damage", [_changed, _missing, _unlisted, _unlisted_in_a_module, _interrupted]
)
def test_runs_refuse_a_tree_that_does_not_match_its_manifest(
    rendered: Path, command: str, damage: Callable[[Path], str]
) -> None:
    problem = damage(rendered)
    args = [command, str(rendered), *(["--auto-approve"] if command == "apply" else [])]
    code, out = cli(*args)
    assert code == 1, out
    assert problem in out and "does not match tfgen.manifest.json" in out
    assert "Re-render it" in out and "Traceback" not in out
    assert not (rendered / ".tfgen" / "plans").exists() or not any(
        (rendered / ".tfgen" / "plans").iterdir()
    )


def test_run_time_files_do_not_count(rendered: Path) -> None:
    stack = rendered / "stacks/americas/replication"
    (stack / ".terraform" / "modules").mkdir(parents=True)
    (stack / ".terraform" / "modules" / "x.tf").write_text("# cached\n")
    (stack / ".terraform.lock.hcl").write_text("# lock\n")
    (stack / "terraform.tfstate").write_text("{}")
    (rendered / ".tfgen" / "plans").mkdir(parents=True)
    (rendered / ".tfgen" / "plans" / "x.tf").write_text("# not configuration\n")
    code, out = cli("stacks", str(rendered))
    assert code == 0, out
    # A re-render repairs what the runs refused, and they accept the tree again.
    _changed(rendered)
    assert cli("stacks", str(rendered))[0] == 1
    assert cli("render", str(MESH), "--out", str(rendered))[0] == 0
    assert cli("stacks", str(rendered))[0] == 0


def test_a_fresh_copy_of_the_tree_is_accepted(rendered: Path, tmp_path: Path) -> None:
    """As CI sees a committed tree: no stamp, new inodes and times."""
    copy = tmp_path / "clone"
    shutil.copytree(rendered, copy, ignore=shutil.ignore_patterns(".tfgen"))
    assert cli("stacks", str(copy))[0] == 0
    assert cli("render", str(MESH), "--out", str(copy), "--check")[0] == 0
    assert tree(copy) == tree(rendered)


def test_an_edited_file_of_a_retired_stack_says_how_to_resolve_it(tmp_path: Path) -> None:
    spec, out = tmp_path / "tfgen.yaml", tmp_path / "tree"
    spec.write_text(THREE)
    assert cli("render", str(spec), "--out", str(out))[0] == 0
    spec.write_text(TWO)
    assert cli("render", str(spec), "--out", str(out))[0] == 0  # c/registry-policy: retired
    providers = out / "stacks/c/registry-policy/providers.tf"
    written = providers.read_bytes()
    providers.write_bytes(written + b"# edited\n")
    code, text = cli("stacks", str(out))
    assert code == 1 and "providers.tf: changed since tfgen rendered it" in text
    assert cli("render", str(spec), "--out", str(out))[0] == 0  # rendered anew: repaired
    assert providers.read_bytes() == written
    assert cli("stacks", str(out))[0] == 0


def test_a_stack_whose_files_are_not_listed_is_a_problem(rendered: Path) -> None:
    """Found with one set of the directories holding listed files (checking each directory
    against every file was quadratic: hours at 10,000 accounts); a directory whose name only
    starts like the stack's does not count."""
    from dataclasses import replace

    from tfgen.manifest import load, tree_problems

    manifest = load(rendered)
    assert tree_problems(manifest) == []
    gone = "stacks/asia/replication"
    files = {k: v for k, v in manifest.files.items() if not k.startswith(gone + "/")}
    files["stacks/asia/replication-old/main.tf"] = "0" * 64  # shares the prefix, not the dir
    problems = tree_problems(replace(manifest, files=files))
    assert f"{gone}/: a stack or module of the manifest, but no file of it is listed" in problems
    assert [p for p in problems if "no file of it is listed" in p] == [
        f"{gone}/: a stack or module of the manifest, but no file of it is listed"
    ]
