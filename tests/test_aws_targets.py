"""Organizations targets offline: the lock file format, naming, and the pure expansion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tfgen.aws.errors import explain, is_unsupported
from tfgen.aws.organizations import OrgAccount
from tfgen.aws.orglock import build_lock, diff
from tfgen.compile import compile_loaded
from tfgen.spec import SpecError, load_spec
from tfgen.spec.lockfile import LockedAccount, OrgLock, parse_lock, read_lock
from tfgen.spec.model import Spec
from tfgen.spec.targets import assign_names, slug

OU = "ou-ab12-cdef3456"
SPEC = f"""version: 1
defaults:
  role_arn: "arn:aws:iam::{{account_id}}:role/tfgen"
accounts:
  hub: {{id: "111111111111"}}
replication:
  - name: fan-out
    from: {{account: hub, regions: [us-east-1]}}
    to:
      - {{organizational_unit: {OU}, regions: [us-east-1, eu-west-1]}}
      - {{account: hub, regions: [us-west-2]}}
  - name: back
    from: {{organizational_unit: {OU}, regions: [eu-west-1]}}
    to:
      - {{account: hub, regions: [us-east-1, eu-weest-1]}}
"""


def _lock(accounts: dict[str, tuple[str, str]], targets: dict[str, list[str]]) -> OrgLock:
    return OrgLock(
        "o-example",
        {i: LockedAccount(i, name, spec_name, "aws") for i, (name, spec_name) in accounts.items()},
        {k: tuple(v) for k, v in targets.items()},
    )


LOCK = _lock(
    {
        "111111111111": ("Hub", "hub-account"),
        "222222222222": ("Prod A", "prod-a"),
        "333333333333": ("Prod B", "prod-b"),
    },
    {OU: ["111111111111", "222222222222", "333333333333"]},
)


def _write(tmp_path: Path, spec: str = SPEC, lock: OrgLock | None = LOCK) -> Path:
    path = tmp_path / "tfgen.yaml"
    path.write_text(spec, encoding="utf-8")
    if lock is not None:
        (tmp_path / "tfgen.lock.json").write_text(lock.dumps(), encoding="utf-8")
    return path


def test_issues_point_at_what_was_written(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(_write(tmp_path))
    [issue] = [i for i in caught.value.issues if i.severity.value == "error"]
    # One error, not one per account of the OU, on the line and path the user wrote.
    assert issue.where == "replication[1].to[0].regions[1]"
    assert issue.line == 15
    assert "'eu-weest-1' is not a Region" in issue.message


def test_expansion(tmp_path: Path) -> None:
    state = compile_loaded(load_spec(_write(tmp_path, SPEC.replace("eu-weest-1", "eu-west-1"))))
    # The hub is in the OU too: it keeps its spec name, the others get the lock's names.
    assert sorted(state.accounts) == ["hub", "prod-a", "prod-b"]
    assert state.accounts["prod-b"].role_arn == "arn:aws:iam::333333333333:role/tfgen"
    hub = {r.region: r for r in state.registries if r.account == "hub"}
    [rule] = hub["us-east-1"].rules
    assert [(d.region, d.registry_id) for d in rule.destinations] == [
        ("eu-west-1", "111111111111"),  # hub/us-east-1 itself is skipped, as for any mesh
        ("us-east-1", "222222222222"),
        ("eu-west-1", "222222222222"),
        ("us-east-1", "333333333333"),
        ("eu-west-1", "333333333333"),
        ("us-west-2", "111111111111"),
    ]
    # The OU in `from` became one rule per account.
    prod_a = next(r for r in state.registries if r.label == "prod-a/eu-west-1")
    assert prod_a.rules[0].name == "back/prod-a"
    assert hub["eu-west-1"].grant_sources == ("222222222222", "333333333333")


def test_without_a_lock_or_target_the_user_is_told_to_run_lock(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as no_lock:
        load_spec(_write(tmp_path, lock=None))
    assert "run 'tfgen lock' to resolve them into accounts" in no_lock.value.issues[0].message
    other = _lock({}, {"ou-zz99-zzzzzzzz": []})
    with pytest.raises(SpecError) as stale:
        load_spec(_write(tmp_path, lock=other))
    assert f"organizational_unit {OU} is not in tfgen.lock.json; run 'tfgen lock'" in (
        stale.value.issues[0].message
    )


def test_a_lock_name_taken_by_another_spec_account_is_an_error(tmp_path: Path) -> None:
    spec = SPEC.replace(
        'hub: {id: "111111111111"}', 'hub: {id: "111111111111"}\n  prod-a: {id: "999999999999"}'
    )
    with pytest.raises(SpecError) as caught:
        load_spec(_write(tmp_path, spec))
    assert any(
        "names account 222222222222 ('Prod A') 'prod-a', but accounts.prod-a is another account"
        in i.message
        for i in caught.value.issues
    )


def test_malformed_lock_files(tmp_path: Path) -> None:
    path = _write(tmp_path)
    lock_file = tmp_path / "tfgen.lock.json"
    lock_file.write_text("{not json", encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert "the lock file is not valid JSON" in caught.value.issues[0].message
    assert caught.value.issues[0].file == str(lock_file)
    with pytest.raises(SpecError, match="1 error"):
        parse_lock({"lock_version": 2}, "x")
    data = LOCK.to_json()
    data["targets"][OU].append("444444444444")
    with pytest.raises(SpecError) as unknown:
        parse_lock(data, "x")
    assert "must be listed under 'accounts'" in unknown.value.issues[0].message


def test_lock_is_deterministic_and_round_trips(tmp_path: Path) -> None:
    text = LOCK.dumps()
    assert text == LOCK.dumps()
    assert json.loads(text)["targets"] == {OU: ["111111111111", "222222222222", "333333333333"]}
    path = tmp_path / "tfgen.lock.json"
    path.write_text(text, encoding="utf-8")
    assert read_lock(path) == LOCK
    assert read_lock(tmp_path / "absent.json") is None


def test_names_are_stable() -> None:
    assert slug("Prod Workloads") == "prod-workloads"
    assert slug("  --Zürich Team!!") == "zurich-team"
    assert slug("日本") == ""
    assert len(slug("a" * 80)) == 63
    spec = Spec.model_validate({"version": 1, "accounts": {"prod": {"id": "111111111111"}}})
    names = assign_names(
        {
            "111111111111": "Prod",
            "222222222222": "Prod",
            "333333333333": "日本",
            "444444444444": "X",
        },
        spec,
        {"444444444444": "kept-name"},
    )
    assert names == {
        "111111111111": "prod",  # listed in the spec
        "222222222222": "acct-222222222222",  # its slug is taken
        "333333333333": "acct-333333333333",  # nothing usable in its name
        "444444444444": "kept-name",  # named by the previous lock: a rename does not move it
    }


def test_build_lock_and_diff() -> None:
    spec = Spec.model_validate({"version": 1, "accounts": {"hub": {"id": "111111111111"}}})
    first = build_lock(
        spec,
        None,
        {OU: (OrgAccount("222222222222", "Prod A", "aws"),)},
        "o-example",
    )
    second = build_lock(
        spec,
        first,
        {
            OU: (
                OrgAccount("333333333333", "Prod B", "aws"),
                OrgAccount("111111111111", "Hub", "aws"),
            )
        },
        "o-example",
    )
    assert second.accounts["111111111111"].spec_name == "hub"
    [change] = diff(first, second)
    assert [a.id for a in change.added] == ["111111111111", "333333333333"]
    assert [a.id for a in change.removed] == ["222222222222"]


def test_error_translation() -> None:
    def client_error(code: str, message: str = "m") -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": message}}, "AssumeRole")

    denied = explain(client_error("AccessDenied", "not authorized"), "assuming role R for 'prod'")
    assert str(denied) == "assuming role R for 'prod': access denied (AccessDenied: not authorized)"
    expired = explain(client_error("ExpiredToken"), "reading prod/us-east-1")
    assert "the AWS credentials have expired; refresh them" in str(expired)
    assert is_unsupported(client_error("UnknownOperationException"))
    assert not is_unsupported(client_error("AccessDeniedException"))


def test_an_entry_whose_targets_are_all_empty_is_an_error(tmp_path: Path) -> None:
    empty = _lock({"222222222222": ("Prod A", "prod-a")}, {OU: []})
    spec = SPEC.replace("      - {account: hub, regions: [us-west-2]}\n", "").replace(
        "eu-weest-1", "eu-west-1"
    )
    with pytest.raises(SpecError) as caught:
        load_spec(_write(tmp_path, spec, empty))
    messages = [(i.where, i.severity.value, i.message) for i in caught.value.issues]
    assert (
        "replication[0].to",
        "error",
        "no destination account: every target here is empty",
    ) in messages
    assert any("has no active accounts" in m for _, _, m in messages)


def test_a_deeply_nested_lock_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = _write(tmp_path, lock=None)
    (tmp_path / "tfgen.lock.json").write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    (issue,) = caught.value.issues
    assert issue.message == "the lock file is nested too deeply; run 'tfgen lock --refresh'"
    assert issue.file == str(tmp_path / "tfgen.lock.json")
