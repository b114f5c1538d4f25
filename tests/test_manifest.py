"""tfgen.manifest: the one reader of tfgen.manifest.json. Every manifest is checked against the
schema, and a malformed one is a message naming the file and the key, exit 1, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.rendering import REPO
from tfgen import manifest
from tfgen.cli import main_group
from tfgen.manifest import MANIFEST, ManifestError, ManifestStack, encode, parse, path_problem

SPEC = REPO / "examples" / "mesh" / "tfgen.yaml"
GOOD_STACK = {
    "id": "a/registry-policy",
    "path": "stacks/a/registry-policy",
    "kind": "registry-policy",
    "phase": 1,
}
SHA = "0" * 64


def tfgen(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main_group, list(args))
    return result.exit_code, result.stderr


def body(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "manifest_version": 1,
        "generator": "tests",
        "files": {"stacks/a/registry-policy/main.tf": SHA},
        "stacks": [GOOD_STACK],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


MALFORMED: list[tuple[Any, list[str]]] = [
    ([], ["expected a JSON object"]),
    (body(manifest_version=2), ["manifest_version 2 is not supported", "reads version 1"]),
    (body(manifest_version="1"), ["manifest_version '1' is not supported"]),
    (body(manifest_version=None), ["manifest_version None is not supported"]),
    (body(files=None), ["files: expected an object", "got null"]),
    (body(stacks=None), ["stacks: expected a list of stacks"]),
    (body(stacks=3), ["stacks: expected a list of stacks, got a number"]),
    (body(stacks=[{"x": 1}]), ["stacks[0]: unknown key 'x'", "stacks[0]: missing key 'id'"]),
    (body(stacks=["a/x"]), ["stacks[0]: expected an object, got a string"]),
    (body(stacks=[{**GOOD_STACK, "id": 1}]), ["stacks[0].id: expected a string, got a number"]),
    (body(stacks=[{**GOOD_STACK, "phase": "1"}]), ["stacks[0].phase: expected a number"]),
    (body(stacks=[{**GOOD_STACK, "phase": 2}]), ["stacks[0].phase: a registry-policy stack"]),
    (body(stacks=[{**GOOD_STACK, "kind": "x"}]), ["stacks[0].kind: 'x' is not one of"]),
    (body(stacks=[{**GOOD_STACK, "depends_on": "b"}]), ["stacks[0].depends_on: expected a list"]),
    (body(stacks=[{**GOOD_STACK, "retired": "yes"}]), ["stacks[0].retired: expected true"]),
    # What a retired stack is rendered from is checked like the rest: its account, Regions (they
    # become provider aliases), the role its providers assume and its provider constraint.
    (body(stacks=[{**GOOD_STACK, "account": "A b"}]), ["stacks[0].account: 'A b' is not an"]),
    (
        body(stacks=[{**GOOD_STACK, "regions": ["us-east-1\nx"]}]),
        ["stacks[0].regions: 'us-east-1\\nx' is not a Region name"],
    ),
    (body(stacks=[{**GOOD_STACK, "regions": ["us_east"]}]), ["'us_east' is not a Region name"]),
    (
        body(stacks=[{**GOOD_STACK, "retired_regions": ["eu-west-1"]}]),
        ["stacks[0].retired_regions: 'eu-west-1' is not one of the stack's regions"],
    ),
    (
        body(stacks=[{**GOOD_STACK, "role_arn": "arn:aws:iam::1:role/x"}]),
        ["stacks[0].role_arn: 'arn:aws:iam::1:role/x' is not an IAM role ARN"],
    ),
    (
        body(stacks=[{**GOOD_STACK, "aws_provider": "banana"}]),
        ["stacks[0].aws_provider: 'banana' is not a version constraint"],
    ),
    (body(stacks=[{**GOOD_STACK, "path": "../x"}]), ["stacks[0].path: '../x' is not normalised"]),
    (body(stacks=[{**GOOD_STACK, "modules": ["/etc"]}]), ["stacks[0].modules[0]: '/etc' is abs"]),
    (
        body(stacks=[GOOD_STACK, GOOD_STACK]),
        ["stacks[1]: stack id 'a/registry-policy' appears twice"],
    ),
    (body(files={"stacks/a/main.tf": "abc"}), ["files['stacks/a/main.tf']: expected a sha256"]),
    (body(files={"../outside": SHA}), ["files['../outside']: '../outside' is not normalised"]),
    (body(files={"/etc/passwd": SHA}), ["files['/etc/passwd']: '/etc/passwd' is absolute"]),
    (body(extra=1), ["unknown key 'extra'"]),
]


@pytest.mark.parametrize(("data", "messages"), MALFORMED, ids=lambda v: json.dumps(v)[:60])
def test_a_malformed_manifest_is_a_clear_error(
    tmp_path: Path, data: Any, messages: list[str]
) -> None:
    (tmp_path / MANIFEST).write_text(json.dumps(data))
    code, err = tfgen("stacks", str(tmp_path))
    assert code == 1
    assert str(tmp_path / MANIFEST) in err
    for message in messages:
        assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"manifest_version": 1, "manifest_version": 1}', "appears twice"),
        (b'\xff\xfe{"manifest_version": 1}', "not valid JSON"),
    ],
)
def test_unreadable_manifests_are_clear_errors(tmp_path: Path, raw: bytes, message: str) -> None:
    (tmp_path / MANIFEST).write_bytes(raw)
    code, err = tfgen("stacks", str(tmp_path))
    assert code == 1 and message in err and str(tmp_path / MANIFEST) in err


@pytest.mark.parametrize("command", ["render", "plan", "apply", "destroy"])
def test_every_reader_refuses_a_malformed_manifest(tmp_path: Path, command: str) -> None:
    (tmp_path / MANIFEST).write_text(json.dumps(body(stacks=[{"x": 1}])))
    args = ["render", str(SPEC), "--out"] if command == "render" else [command]
    code, err = tfgen(*args, str(tmp_path))
    assert code == 1, err
    assert "stacks[0]: unknown key 'x'" in err and str(tmp_path / MANIFEST) in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "rel",
    [
        "",
        "stacks",
        "stacks/",
        "stacks//a",
        "stacks/./a",
        "stacks/a/..",
        "stacks/../../x",
        "/stacks/a",
        "C:/stacks/a",
        "stacks\\a\\main.tf",
        "stacks/a\x00/main.tf",
        "stacks/evil\n/main.tf",
        "stacks/.terraform/x",
        ".git/config",
        "tfgen.manifest.json",
        "other/a/main.tf",
        7,
    ],
)
def test_owned_paths_are_relative_normalised_and_under_stacks_or_modules(rel: Any) -> None:
    assert path_problem(rel) is not None


@pytest.mark.parametrize(
    "rel", ["stacks/prod/registry-policy/main.tf", "modules/ecr-replication/README.md"]
)
def test_the_paths_render_writes_are_accepted(rel: str) -> None:
    assert path_problem(rel) is None


def test_encode_and_parse_round_trip(tmp_path: Path) -> None:
    stacks = [
        ManifestStack(
            "b/replication",
            "stacks/b/replication",
            "replication",
            2,
            depends_on=("a/registry-policy",),
            modules=("modules/ecr-replication",),
            account="b",
            account_id="222222222222",
            regions=("us-east-1",),
        ),
        ManifestStack("a/registry-policy", "stacks/a/registry-policy", "registry-policy", 1),
    ]
    files = {"stacks/b/replication/main.tf": SHA, "modules/ecr-replication/main.tf": "1" * 64}
    parsed = parse(json.loads(encode(files, stacks, "tfgen test")), tmp_path)
    assert parsed.stacks == tuple(sorted(stacks, key=lambda s: s.id))
    assert dict(parsed.files) == files
    assert parsed.generator == "tfgen test"


def test_a_missing_manifest_says_to_render_first(tmp_path: Path) -> None:
    assert manifest.read(tmp_path) is None
    with pytest.raises(
        ManifestError, match=r"Render a tree first, e\.g\. `tfgen render tfgen\.yaml"
    ):
        manifest.load(tmp_path)


def test_a_manifest_that_is_a_link_is_not_followed(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere.json"
    real.write_text(json.dumps(body()))
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / MANIFEST).symlink_to(real)
    with pytest.raises(ManifestError, match="symbolic link"):
        manifest.read(tree)


def _tree(root: Path) -> None:
    root.mkdir(parents=True)
    (root / MANIFEST).write_bytes(encode({}, [], "tests"))


@pytest.mark.parametrize("command", ["plan", "apply", "destroy", "stacks"])
def test_no_tree_here_names_the_one_rendered_below(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the repository root with the tree in infra/ecr: point at infra/ecr, never suggest
    rendering into the root."""
    _tree(tmp_path / "infra" / "ecr")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main_group, [command])
    assert result.exit_code == 1
    assert f"the rendered tree is in infra/ecr: run `tfgen {command} infra/ecr`" in result.stderr
    assert "--out ." not in result.stderr and "into" not in result.stderr


def test_no_tree_anywhere_says_where_tfgen_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for hidden in (".git/x", ".terraform/y", "node_modules/z", "a/b/c/d/e"):  # skipped, too deep
        _tree(tmp_path / hidden)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main_group, ["plan"])
    assert result.exit_code == 1
    assert "not found, nor in the directories below it (4 levels, hidden ones" in result.stderr
    assert "`tfgen plan infra/ecr`" in result.stderr


def test_several_trees_below_are_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(tmp_path / "prod" / "ecr")
    _tree(tmp_path / "dev")
    _tree(tmp_path / "dev" / "inner")  # inside a tree: not a tree of its own
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main_group, ["stacks"])
    assert result.exit_code == 1
    assert "rendered trees below it: dev, prod/ecr. Name one: `tfgen stacks dev`" in result.stderr
