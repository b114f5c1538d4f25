"""The writer against a hostile tree: a tampered manifest or planted links never make render read,
write or delete outside --out, and a file tfgen no longer renders is removed only while it is
still the file tfgen wrote."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.rendering import REPO, tree
from tests.test_render import SPEC_TWO
from tfgen.cli import main_group
from tfgen.compile import compile_loaded
from tfgen.errors import RenderError, TfgenError
from tfgen.manifest import JOURNAL, MANIFEST, ManifestStack
from tfgen.render import parallel, render_tree
from tfgen.spec import load_spec

HUB = REPO / "examples" / "hub-and-spoke" / "tfgen.yaml"
MESH = REPO / "examples" / "mesh" / "tfgen.yaml"
THREE = SPEC_TWO  # a replicates to b and to c
TWO = THREE.split("  - from: {account: a, regions: [us-east-1]}\n    to: [{account: c")[0]


def render(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main_group, ["render", *args])
    return result.exit_code, result.stderr


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tamper(out: Path, **files: str) -> None:
    """Add entries to the manifest's files, as a pull request could."""
    path = out / MANIFEST
    data = json.loads(path.read_text())
    data["files"].update(files)
    path.write_text(json.dumps(data))


@pytest.fixture
def victims(tmp_path: Path) -> tuple[Path, Path]:
    """Two files outside the tree; the manifest will list them with their true hashes."""
    outside = tmp_path / "outside"
    outside.mkdir()
    relative = outside / "victim.txt"
    relative.write_text("keep me\n")
    absolute = outside / "absolute.txt"
    absolute.write_text("keep me too\n")
    return relative, absolute


@pytest.mark.parametrize("prune", [False, True])
def test_a_tampered_manifest_deletes_nothing_outside_the_tree(
    tmp_path: Path, victims: tuple[Path, Path], prune: bool
) -> None:
    out = tmp_path / "tree"
    assert render(str(MESH), "--out", str(out))[0] == 0
    relative, absolute = victims
    tamper(
        out,
        **{
            "../outside/victim.txt": sha(relative.read_bytes()),
            str(absolute): sha(absolute.read_bytes()),
        },
    )
    code, err = render(str(HUB), "--out", str(out), *(["--prune"] if prune else []))
    assert code == 1, err
    assert "'../outside/victim.txt' is not normalised" in err
    assert f"'{absolute}' is absolute" in err
    assert str(out / MANIFEST) in err and "Traceback" not in err
    assert relative.read_text() == "keep me\n"
    assert absolute.read_text() == "keep me too\n"
    assert (out / "stacks/americas/replication/main.tf").is_file()  # nothing was changed


def test_a_directory_replaced_by_a_link_is_not_followed_to_delete(tmp_path: Path) -> None:
    spec = tmp_path / "tfgen.yaml"
    out = tmp_path / "tree"
    spec.write_text(THREE)
    assert render(str(spec), "--out", str(out))[0] == 0
    # The stack of account c moves outside; its directory in the tree becomes a link to it.
    outside = tmp_path / "outside-c"
    (out / "stacks" / "c").rename(outside)
    (out / "stacks" / "c").symlink_to(outside, target_is_directory=True)
    before = {p.name: p.read_bytes() for p in (outside / "registry-policy").iterdir()}
    spec.write_text(TWO)
    code, err = render(str(spec), "--out", str(out), "--prune")
    assert code == 1, err
    assert f"{out / 'stacks' / 'c'} is a symbolic link" in err
    assert {p.name: p.read_bytes() for p in (outside / "registry-policy").iterdir()} == before


def test_a_directory_replaced_by_a_link_is_not_followed_to_write(tmp_path: Path) -> None:
    out = tmp_path / "tree"
    assert render(str(MESH), "--out", str(out))[0] == 0
    stack = out / "stacks" / "americas"
    outside = tmp_path / "outside-americas"
    stack.rename(outside)
    stack.symlink_to(outside, target_is_directory=True)
    before = (outside / "replication" / "main.tf").read_bytes()
    changed = tmp_path / "changed.yaml"
    changed.write_text(MESH.read_text().replace("shared/]", "shared/, common/]"))
    code, err = render(str(changed), "--out", str(out))
    assert code == 1, err
    assert "is a symbolic link" in err
    assert (outside / "replication" / "main.tf").read_bytes() == before
    assert not list(outside.rglob("*.tfgen-tmp"))


@pytest.mark.parametrize("check", [False, True])
def test_an_owned_file_replaced_by_a_link_is_refused(tmp_path: Path, check: bool) -> None:
    """Even a link to the very bytes tfgen renders: what it points to can change after review."""
    out = tmp_path / "tree"
    assert render(str(MESH), "--out", str(out))[0] == 0
    main = out / "stacks" / "americas" / "replication" / "main.tf"
    outside = tmp_path / "main.tf"
    main.rename(outside)
    main.symlink_to(outside)
    code, err = render(str(MESH), "--out", str(out), *(["--check"] if check else []))
    assert code == 1, err
    assert f"{main} is a symbolic link" in err
    assert main.is_symlink() and outside.read_text().startswith("# Generated by tfgen")


def test_a_link_planted_at_a_staging_name_is_not_written_through(tmp_path: Path) -> None:
    out = tmp_path / "tree"
    assert render(str(MESH), "--out", str(out))[0] == 0
    victim = tmp_path / "victim.tf"
    victim.write_text("# not tfgen's\n")
    stack = out / "stacks" / "americas" / "replication"
    (stack / ".main.tf.tfgen-tmp").symlink_to(victim)
    changed = tmp_path / "changed.yaml"
    changed.write_text(MESH.read_text().replace("shared/]", "shared/, common/]"))
    code, err = render(str(changed), "--out", str(out))
    assert code == 0, err
    assert victim.read_text() == "# not tfgen's\n"
    assert "common/" in (stack / "main.tf").read_text()
    assert not (stack / ".main.tf.tfgen-tmp").exists()


def test_a_file_edited_after_render_is_kept_when_dropped(tmp_path: Path) -> None:
    out = tmp_path / "tree"
    assert render(str(HUB), "--out", str(out), "--adopt-account", "prod")[0] == 0
    imports = out / "stacks" / "prod" / "registry-policy" / "imports.tf"
    imports.write_text(imports.read_text() + "# my note\n")
    code, err = render(str(HUB), "--out", str(out))
    assert code == 0, err
    assert imports.read_text().endswith("# my note\n")
    assert f"kept {imports}" in err and "no longer owns it" in err
    owned = json.loads((out / MANIFEST).read_text())["files"]
    assert "stacks/prod/registry-policy/imports.tf" not in owned
    code, err = render(str(HUB), "--out", str(out))
    assert code == 0 and "kept" not in err  # said once; the file is the user's now


def test_an_unedited_file_dropped_from_the_spec_is_removed(tmp_path: Path) -> None:
    out = tmp_path / "tree"
    assert render(str(HUB), "--out", str(out), "--adopt-account", "prod")[0] == 0
    imports = out / "stacks" / "prod" / "registry-policy" / "imports.tf"
    code, err = render(str(HUB), "--out", str(out))
    assert code == 0, err
    assert not imports.exists() and "kept" not in err


def test_a_retired_stack_is_rendered_anew_never_kept_as_the_tree_has_it(tmp_path: Path) -> None:
    """A retired stack's files come from tfgen, like every other: an edit (or a planted file
    listed in a tampered manifest) is overwritten, and --check reports it."""
    spec = tmp_path / "tfgen.yaml"
    out = tmp_path / "tree"
    spec.write_text(THREE)
    assert render(str(spec), "--out", str(out))[0] == 0
    stack = out / "stacks" / "c" / "registry-policy"
    providers = stack / "providers.tf"
    spec.write_text(TWO)
    assert render(str(spec), "--out", str(out))[0] == 0  # retired
    written = providers.read_bytes()
    hostile = b'resource "terraform_data" "x" {\n  provisioner "local-exec" { command = "id" }\n}\n'
    providers.write_bytes(written + hostile)
    code, err = render(str(spec), "--out", str(out), "--check")
    assert code == 1 and "1 file would change: 1 updated" in err
    code, err = render(str(spec), "--out", str(out), "-v")
    assert code == 0 and f"{providers} (was edited by hand; overwritten)" in err
    assert providers.read_bytes() == written


# --- every staging name and run-time file: never written through a planted link -------------------

NOT_TFGENS = "# not tfgen's\n"


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file outside every tree; links planted in a tree point at it."""
    path = tmp_path / "outside" / "victim.txt"
    path.parent.mkdir()
    path.write_text(NOT_TFGENS)
    return path


def changed_mesh(tmp_path: Path) -> Path:
    changed = tmp_path / "changed.yaml"
    changed.write_text(MESH.read_text().replace("shared/]", "shared/, common/]"))
    return changed


def test_a_directory_planted_at_a_staging_name_stops_render_cleanly(tmp_path: Path) -> None:
    out = tmp_path / "tree"
    assert render(str(MESH), "--out", str(out))[0] == 0
    before = tree(out)
    planted = out / "stacks" / "americas" / "replication" / ".main.tf.tfgen-tmp"
    planted.mkdir()
    (planted / "keep").write_text(NOT_TFGENS)
    code, err = render(str(changed_mesh(tmp_path)), "--out", str(out))
    assert code == 1 and "nothing was changed" in err and "Traceback" not in err
    assert (planted / "keep").read_text() == NOT_TFGENS
    assert {k: v for k, v in tree(out).items() if "tfgen-tmp" not in k} == before
    assert not (out / JOURNAL).exists()


@pytest.mark.parametrize("two_processes", [False, True])
def test_a_link_at_the_new_tree_staging_directory_is_not_followed(
    tmp_path: Path, victim: Path, two_processes: bool
) -> None:
    out = tmp_path / "tree"
    (tmp_path / f".tree.tfgen-tmp-{os.getpid()}").symlink_to(victim.parent)
    state = compile_loaded(load_spec(MESH))
    with pytest.raises(RenderError, match="is not tfgen's staging directory"):
        if two_processes:
            parallel.render_new_tree(state, out, frozenset(), "tfgen test")
        else:
            render_tree(state, out)
    assert [p.name for p in victim.parent.iterdir()] == ["victim.txt"]
    assert victim.read_text() == NOT_TFGENS and not out.exists()


def test_a_link_at_atlantis_yaml_temporary_name_is_not_followed(
    tmp_path: Path, victim: Path
) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / ".atlantis.yaml.tfgen-tmp").symlink_to(victim)
    code, err = render(str(MESH), "--out", str(repo / "infra"), "--atlantis")
    assert code == 0, err
    assert victim.read_text() == NOT_TFGENS
    atlantis = repo / "atlantis.yaml"
    assert not atlantis.is_symlink() and atlantis.read_text().startswith("# Generated by tfgen")


@pytest.mark.parametrize(
    "name",
    [
        ".tfgen/render-stamp.json.tmp",  # the names earlier versions used
        ".tfgen/.render-stamp.json.tfgen-tmp",
        ".tfgen/.render-journal.json.tfgen-tmp",
        ".tfgen/.gitignore",
    ],
)
def test_links_at_render_state_files_are_not_followed(
    tmp_path: Path, victim: Path, name: str
) -> None:
    out = tmp_path / "tree"
    assert render(str(MESH), "--out", str(out))[0] == 0
    (out / name).unlink(missing_ok=True)
    (out / name).symlink_to(victim)
    code, err = render(str(changed_mesh(tmp_path)), "--out", str(out))
    assert code == 0, err
    assert victim.read_text() == NOT_TFGENS
    # A dangling link: writing through it would create the file it names.
    (out / name).unlink(missing_ok=True)
    (out / name).symlink_to(victim.parent / "created")
    code, err = render(str(MESH), "--out", str(out))
    assert code == 0, err
    assert not (victim.parent / "created").exists()


def test_a_link_at_the_state_directory_is_refused(tmp_path: Path, victim: Path) -> None:
    out = tmp_path / "tree"
    assert render(str(MESH), "--out", str(out))[0] == 0
    shutil.rmtree(out / ".tfgen")
    (out / ".tfgen").symlink_to(victim.parent, target_is_directory=True)
    code, err = render(str(changed_mesh(tmp_path)), "--out", str(out))
    assert code == 1 and f"{out / '.tfgen'} is a symbolic link" in err
    assert [p.name for p in victim.parent.iterdir()] == ["victim.txt"]


def test_links_at_runner_files_are_not_followed(tmp_path: Path, victim: Path) -> None:
    from tfgen.run.hashes import write_applied
    from tfgen.run.workspace import PlanRecord, Workspace

    stack = ManifestStack("a/replication", "stacks/a/replication", "replication", 2)
    ws = Workspace(tmp_path / "tree")
    ws.ensure()
    record = ws.record_path(stack)
    for planted in (record.with_suffix(".tmp"), record.with_name(f".{record.name}.tfgen-tmp")):
        planted.symlink_to(victim)
    ws.write_record(stack, PlanRecord(stack.id, "h", True, False, 0.0, "1.11"))
    applied = ws.applied_path
    for planted in (applied.with_suffix(".tmp"), applied.with_name(".applied.json.tfgen-tmp")):
        planted.symlink_to(victim)
    write_applied(applied, {stack.id: "h"})
    assert victim.read_text() == NOT_TFGENS
    assert not record.is_symlink() and not applied.is_symlink()
    # A link at one of DIR/.tfgen's directories would carry terraform's plans outside the tree.
    shutil.rmtree(ws.plans_dir)
    ws.plans_dir.symlink_to(victim.parent, target_is_directory=True)
    with pytest.raises(TfgenError, match="plans is a symbolic link"):
        ws.ensure()


@pytest.mark.terraform
def test_a_link_at_a_log_is_not_followed(tmp_path: Path, victim: Path, terraform_bin: Path) -> None:
    from tests import runkit

    root = runkit.build_tree(
        tmp_path / "dir", [runkit.StackDef("a/registry-policy", runkit.resource())]
    )
    logs = root / ".tfgen" / "logs"
    logs.mkdir(parents=True)
    (logs / "a__registry-policy.log").symlink_to(victim)
    result = CliRunner().invoke(main_group, ["plan", str(root), "--terraform", str(terraform_bin)])
    assert result.exit_code == 0, result.output
    assert victim.read_text() == NOT_TFGENS
    assert "tfgen plan a/registry-policy" in (logs / "a__registry-policy.log").read_text()


# --- --out: a file on the way, `.`, a link the user chose ----------------------------------------


def test_out_under_a_file(tmp_path: Path) -> None:
    (tmp_path / "some-file").write_text("mine\n")
    code, err = render(str(MESH), "--out", str(tmp_path / "some-file" / "x"))
    assert code == 1 and "Traceback" not in err
    assert f"{tmp_path / 'some-file'} is a file, not a directory" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["some-file"]


def test_a_file_where_a_stack_directory_must_be(tmp_path: Path) -> None:
    out = tmp_path / "tree"
    assert render(str(MESH), "--out", str(out))[0] == 0
    shutil.rmtree(out / "stacks" / "americas")
    (out / "stacks" / "americas").write_text("mine\n")
    before = tree(out)
    code, err = render(str(MESH), "--out", str(out))
    assert code == 1 and "Traceback" not in err
    assert "a file is where tfgen needs a directory" in err and "nothing was changed" in err
    assert tree(out) == before


def test_out_dot_renders_into_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    code, err = render(str(MESH), "--out", ".")
    assert code == 0, err
    reference = tmp_path / "reference"
    assert render(str(MESH), "--out", str(reference))[0] == 0
    assert tree(here) == tree(reference)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["here", "reference"]  # nothing beside
    code, err = render(str(MESH), "--out", ".")
    assert code == 0 and "0 files changed" in err


def test_out_a_link_to_an_empty_directory(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "ecr"
    target.mkdir(parents=True)
    link = tmp_path / "infra"
    link.symlink_to(target, target_is_directory=True)
    code, err = render(str(MESH), "--out", str(link))
    assert code == 0, err
    assert link.is_symlink() and (target / MANIFEST).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "infra"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["ecr"]
    assert render(str(MESH), "--out", str(link), "--check")[0] == 0


def test_out_a_link_to_nothing(tmp_path: Path) -> None:
    (tmp_path / "infra").symlink_to(tmp_path / "missing")
    code, err = render(str(MESH), "--out", str(tmp_path / "infra"))
    assert code == 1 and "symbolic link to nothing" in err
    assert not (tmp_path / "missing").exists()


def test_writing_a_new_tree_makes_its_directories_and_never_writes_through_a_link(
    tmp_path: Path,
) -> None:
    from tfgen.render.writer import write_new_files

    stats: dict[str, list[int]] = {}
    files = [("a/b/c/one.tf", b"1" * 70_000), ("a/b/two.tf", b"2"), ("a/three.tf", b"")]
    (tmp_path / "a").mkdir()  # made by the other writing process first
    hashes = write_new_files(tmp_path, files, stats)
    assert {rel: (tmp_path / rel).read_bytes() for rel, _ in files} == dict(files)
    assert hashes == {rel: sha(data) for rel, data in files}
    assert stats["a/b/c/one.tf"][0] == 70_000
    assert stats["a/b/c/one.tf"][3] == (tmp_path / "a/b/c/one.tf").stat().st_ino
    outside = tmp_path / "outside.tf"
    outside.write_text("theirs")
    (tmp_path / "a" / "link.tf").symlink_to(outside)
    with pytest.raises(FileExistsError):
        write_new_files(tmp_path, [("a/link.tf", b"ours")])
    assert outside.read_text() == "theirs"
    (tmp_path / "file").write_text("")
    with pytest.raises(FileExistsError):  # a file where a directory must be
        write_new_files(tmp_path, [("file/x.tf", b"")])
