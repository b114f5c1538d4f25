"""Each stack's desired.json (tfgen.desired): what render writes reads back as the compiled state
of the stack's settings, for every example and good spec; a hostile or stale file is refused with
every problem named, and nothing of it is used."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.rendering import EXAMPLES, REPO
from tfgen import desired, manifest
from tfgen.compile import compile_loaded
from tfgen.render import render_tree
from tfgen.spec import load_spec
from tfgen.state import POLICY_SETTING, REPLICATION_SETTING, TEMPLATES_SETTING

SPECS = [*(e / "tfgen.yaml" for e in EXAMPLES), *sorted((REPO / "tests/specs/good").glob("*.yaml"))]


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.parent.name + "/" + p.name)
def test_every_stack_reads_back_as_the_compiled_state(spec: Path, tmp_path: Path) -> None:
    state = compile_loaded(load_spec(spec))
    render_tree(state, tmp_path / "out")
    tree = manifest.load(tmp_path / "out")
    compiled = {(r.account, r.region): r for r in state.registries}
    covered: dict[tuple[str, str], set[str]] = {}
    for stack in tree.stacks:
        found = desired.read(tree, stack)
        assert found.account == state.accounts[stack.account]
        for registry in found.registries:
            key = (registry.account, registry.region)
            assert registry.settings == desired.SETTINGS[stack.kind]
            assert registry.to_json() == compiled[key].desired(registry.settings).to_json()
            covered.setdefault(key, set()).update(registry.settings)
    # Every setting a registry holds is some stack's.
    for key, registry in compiled.items():
        held = {REPLICATION_SETTING} if registry.rules else set()
        if registry.registry_policy() is not None:
            held.add(POLICY_SETTING)
        if registry.creation_templates:
            held.add(TEMPLATES_SETTING)
        assert held <= covered.get(key, set()), key


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> manifest.Manifest:
    out = tmp_path_factory.mktemp("desired") / "out"
    render_tree(compile_loaded(load_spec(REPO / "examples/hub-and-spoke/tfgen.yaml")), out)
    return manifest.load(out)


def _stack(tree: manifest.Manifest, stack_id: str) -> manifest.ManifestStack:
    return next(s for s in tree.stacks if s.id == stack_id)


def _original(tree: manifest.Manifest, stack_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (tree.root / _stack(tree, stack_id).path / desired.FILE).read_text()
    )
    return data


def _edit(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = data
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return apply


HOSTILE = [
    ("a newer version", _edit("desired_version", 2), "desired_version: expected 1"),
    ("an unknown key", _edit("extra", 1), "$: unknown key 'extra'"),
    (
        "another stack",
        _edit("stack", "staging/registry-policy"),
        "stack: 'staging/registry-policy' is not this stack's",
    ),
    ("another kind", _edit("kind", "replication"), "kind: 'replication' is not this stack's"),
    ("another account id", _edit("account.id", "999999999999"), "account.id:"),
    (
        "a role of another account",
        _edit("account.role_arn", "arn:aws:iam::999999999999:role/x"),
        "a role of another account",
    ),
    (
        "a role that is not a role",
        _edit("account.role_arn", "arn:aws:iam::222222222222:user/x"),
        "account.role_arn:",
    ),
    (
        "a Region of no provider",
        _edit("registries.0.region", "us-east-2"),
        "not one of the stack's Regions",
    ),
    ("a Region that is not one", _edit("registries.0.region", "../../x"), "registries[0].region:"),
    ("a control character", _edit("registries.0.region", "eu-west-1\x1b[2J"), "control character"),
    (
        "a key of the other stack kind",
        _edit("registries.0.replication_configuration", None),
        "unknown key 'replication_configuration'",
    ),
    (
        "a policy without statements",
        _edit("registries.0.registry_policy", {"Version": "2012-10-17", "Statement": []}),
        "Statement: expected 1 to",
    ),
    (
        "a policy over the limit",
        _edit("registries.0.registry_policy.Statement.0.Sid", "x" * 11_000),
        "longer than 10240 characters",
    ),
    (
        "a template without a prefix",
        _edit(
            "registries.0.creation_templates",
            [
                {
                    "appliedFor": ["REPLICATION"],
                    "imageTagMutability": "MUTABLE",
                    "encryptionConfiguration": {"encryptionType": "AES256"},
                }
            ],
        ),
        "missing key 'prefix'",
    ),
    (
        "a lifecycle policy that is not JSON",
        _edit("registries.1.creation_templates.0.lifecyclePolicy", "{rules"),
        "lifecyclePolicy: not a JSON document",
    ),
]


@pytest.mark.parametrize(("case", "edit", "message"), HOSTILE, ids=[c[0] for c in HOSTILE])
def test_a_file_tfgen_did_not_write_is_refused(
    rendered: manifest.Manifest, case: str, edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    stack = _stack(rendered, "prod/registry-policy")
    data = copy.deepcopy(_original(rendered, stack.id))
    edit(data)
    with pytest.raises(desired.DesiredError) as raised:
        desired.parse(json.dumps(data).encode(), stack, "desired.json")
    assert message in str(raised.value)
    assert "Re-render the tree" in str(raised.value)


def test_the_replication_stack_is_checked_rule_by_rule(rendered: manifest.Manifest) -> None:
    stack = _stack(rendered, "build/replication")
    data = _original(rendered, stack.id)
    rule = data["registries"][0]["replication_configuration"]["rules"][0]
    rule["destinations"][0]["registryId"] = "12345"
    rule["repositoryFilters"][0] = {"filter": "Team A", "filterType": "WILDCARD"}
    rule["extra"] = True
    with pytest.raises(desired.DesiredError) as raised:
        desired.parse(json.dumps(data).encode(), stack, "desired.json")
    text = str(raised.value)
    for expected in ("unknown key 'extra'",):
        assert expected in text
    # Every problem at once (the rule with an unknown key is not read further).
    del rule["extra"]
    with pytest.raises(desired.DesiredError) as raised:
        desired.parse(json.dumps(data).encode(), stack, "desired.json")
    text = str(raised.value)
    assert "destinations[0].registryId: '12345' is not valid here" in text
    assert "filterType: 'WILDCARD' is not this stack's 'PREFIX_MATCH'" in text
    assert "filter: 'Team A' is not valid here" in text


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"stack": 1, "stack": 2}', "appears twice"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[]", "expected an object"),
        (b" " * (desired.MAX_BYTES + 1), "larger than"),
    ],
)
def test_what_is_not_a_json_object_is_refused(
    rendered: manifest.Manifest, raw: bytes, message: str
) -> None:
    with pytest.raises(desired.DesiredError, match=message):
        desired.parse(raw, _stack(rendered, "build/replication"), "desired.json")


def test_read_checks_the_bytes_against_the_manifest(
    rendered: manifest.Manifest, tmp_path: Path
) -> None:
    stack = _stack(rendered, "build/replication")
    rel = f"{stack.path}/{desired.FILE}"
    assert desired.read(rendered, stack).stack_id == stack.id
    other = manifest.Manifest(rendered.root, {**rendered.files, rel: "0" * 64}, rendered.stacks)
    with pytest.raises(desired.DesiredError, match="changed since tfgen rendered it"):
        desired.read(other, stack)
    unlisted = manifest.Manifest(
        rendered.root, {k: v for k, v in rendered.files.items() if k != rel}, rendered.stacks
    )
    with pytest.raises(desired.DesiredError, match="not in the manifest"):
        desired.read(unlisted, stack)


def test_a_link_is_never_followed(rendered: manifest.Manifest, tmp_path: Path) -> None:
    stack = _stack(rendered, "build/replication")
    copy_root = tmp_path / "tree"
    shutil.copytree(rendered.root, copy_root)
    target = copy_root / stack.path / desired.FILE
    outside = tmp_path / "outside.json"
    outside.write_bytes(target.read_bytes())
    target.unlink()
    target.symlink_to(outside)
    with pytest.raises(desired.DesiredError, match="symbolic link"):
        desired.read(manifest.load(copy_root), stack)
