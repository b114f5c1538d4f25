"""User registry-policy statements: IAM's grammar, the tfgen_accept opt-ins, and Denies that take
replication away (compile refuses them, explain says them)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.iam.exceptions import MalformedPolicyDocument
from moto.iam.policy_validation import IAMPolicyDocumentValidator

from tfgen.compile import compile_loaded, compile_model
from tfgen.explain import explain, render, to_json
from tfgen.render import render_files
from tfgen.spec import SpecError, load_spec_text
from tfgen.spec.policy import denial, statement_issues, wildcard_match

SPEC = """\
version: 1
accounts:
  build: {{id: "111111111111"}}
  staging: {{id: "333333333333"}}
  prod: {{id: "222222222222"}}
replication:
  - from: {{account: build, regions: [us-east-1]}}
    to: [{{account: prod, regions: [us-east-1]}}]
    filters: [team-a/]
  - from: {{account: staging, regions: [us-east-1]}}
    to: [{{account: prod, regions: [us-east-1]}}]
registry_policies:
  prod:
    statements:
{statements}
"""

GRANT = {
    "Sid": "A",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
    "Action": ["ecr:ReplicateImage"],
    "Resource": "*",
}


def _spec(*statements: dict[str, Any]) -> str:
    body = "\n".join(f"      - {json.dumps(s)}" for s in statements)
    return SPEC.format(statements=body)


def _moto_accepts(statement: dict[str, Any]) -> bool:
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    try:
        IAMPolicyDocumentValidator(document).validate()
    except MalformedPolicyDocument:
        return False
    return True


def _with(**change: Any) -> dict[str, Any]:
    out = dict(GRANT)
    for key, value in change.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


# Shapes moto's IAM validator (run by PutRegistryPolicy) refuses: tfgen refuses each at validate.
MOTO_REJECTS = {
    "no Resource": _with(Resource=None),
    "Action a number": _with(Action=5),
    "empty Action": _with(Action=[]),
    "Action and NotAction": _with(NotAction=["ecr:CreateRepository"]),
    "unknown condition operator": _with(Condition={"StringEqual": {"aws:PrincipalOrgID": "o-1"}}),
    "null condition value": _with(Condition={"StringEquals": {"aws:PrincipalOrgID": None}}),
    "Condition a string": _with(Condition="aws:PrincipalOrgID"),
    "Resource not an ARN": _with(Resource="junk"),
    "lowercase Effect": _with(Effect="allow"),
}


@pytest.mark.parametrize("statement", MOTO_REJECTS.values(), ids=MOTO_REJECTS.keys())
def test_what_moto_rejects_tfgen_rejects(statement: dict[str, Any]) -> None:
    assert not _moto_accepts(statement)
    assert [i for i in statement_issues(statement, (), "aws") if i.severity == "error"]


MOTO_ACCEPTS = {
    "the grant": GRANT,
    "NotResource": _with(Resource=None, NotResource="arn:aws:ecr:us-east-1:1:repository/x"),
    "IfExists operator": _with(Condition={"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}}),
    "ForAnyValue operator": _with(
        Condition={"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o/*"}}
    ),
    "account id principal": _with(Principal={"AWS": ["111111111111"]}),
    "service principal": _with(Principal={"Service": "replication.ecr.amazonaws.com"}),
}


@pytest.mark.parametrize("statement", MOTO_ACCEPTS.values(), ids=MOTO_ACCEPTS.keys())
def test_valid_statements_pass_both(statement: dict[str, Any]) -> None:
    assert _moto_accepts(statement)
    assert statement_issues(statement, (), "aws") == []


def test_acceptance_key_is_stripped_before_rendering() -> None:
    opted = {
        "Sid": "OrgOnly",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "ecr:ReplicateImage",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}},
        "tfgen_accept": ["any_principal"],
    }
    loaded = load_spec_text(_spec(opted))
    state = compile_loaded(loaded)
    (prod,) = [r for r in state.registries if r.account == "prod"]
    assert "tfgen_accept" not in json.dumps(prod.to_json())
    _, files = render_files(state, frozenset())
    main = files["stacks/prod/registry-policy/main.tf"].decode()
    assert "OrgOnly" in main
    assert "tfgen_accept" not in main
    assert prod.extra_statements[0]["Principal"] == {"AWS": "*"}


def test_deny_of_replication_is_an_error_with_its_path() -> None:
    deny = {
        "Sid": "NoStaging",
        "Effect": "Deny",
        "Principal": {"AWS": "333333333333"},
        "Action": "ecr:ReplicateImage",
        "Resource": "*",
    }
    with pytest.raises(SpecError) as err:
        compile_loaded(load_spec_text(_spec(GRANT, deny)))
    (issue,) = [i for i in err.value.issues if i.severity == "error"]
    assert issue.where == "registry_policies.prod.statements[1]"
    assert issue.line == 16
    assert "blocks ecr:ReplicateImage for staging (333333333333)" in issue.message


def test_explain_does_not_say_a_denied_source_can_replicate() -> None:
    deny = {
        "Sid": "NoStaging",
        "Effect": "Deny",
        "Principal": {"AWS": "arn:aws:iam::333333333333:root"},
        "Action": ["ecr:*"],
        "Resource": "*",
        "tfgen_accept": "denies_replication",
    }
    state = compile_loaded(load_spec_text(_spec(deny)))
    expl = explain(state)
    text = render(expl, "text", width=400)
    assert (
        "prod/us-east-1 lets build (111111111111) replicate repositories starting with team-a/ "
        "into it;"
    ) in text
    assert "lets build (111111111111) and staging" not in text
    assert "Deny 'NoStaging' blocks replication from staging (333333333333)" in text
    (denied,) = to_json(expl)["grants"][0]["denied"]
    assert denied == {
        "account": "staging",
        "account_id": "333333333333",
        "statement": "'NoStaging'",
        "actions": ["ecr:ReplicateImage", "ecr:CreateRepository"],
        "conditional": False,
    }
    (grant,) = expl.grants
    assert [s[0] for s in grant.replicating] == ["build"]


def test_explain_says_when_every_source_is_denied() -> None:
    deny = {
        "Sid": "Nobody",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "ecr:ReplicateImage",
        "Resource": "*",
        "tfgen_accept": ["denies_replication"],
    }
    state = compile_loaded(load_spec_text(_spec(deny)))
    text = render(explain(state), "markdown")
    assert "prod/us-east-1 lets no source account replicate into it" in text
    assert "replicate into it" not in text.replace("lets no source account replicate into it", "")


def test_a_deny_outside_the_replicated_prefixes_blocks_nothing() -> None:
    # build replicates only team-a/ into prod; a Deny on team-b/ leaves it alone.
    deny = {
        "Sid": "NotTeamB",
        "Effect": "Deny",
        "Principal": {"AWS": "111111111111"},
        "Action": "ecr:*",
        "Resource": "arn:aws:ecr:us-east-1:222222222222:repository/team-b/*",
    }
    _, issues = compile_model(load_spec_text(_spec(deny)).spec)
    assert [i for i in issues if i.severity == "error"] == []


@pytest.mark.parametrize(
    ("statement", "prefixes", "expected"),
    [
        (
            {"Action": "ecr:*", "Resource": "*"},
            [""],
            ("ecr:ReplicateImage", "ecr:CreateRepository"),
        ),
        ({"Action": "ecr:replicate*", "Resource": "*"}, [""], ("ecr:ReplicateImage",)),
        ({"NotAction": "ecr:ReplicateImage", "Resource": "*"}, [""], ("ecr:CreateRepository",)),
        ({"Action": "ecr:*", "Resource": "arn:aws:ecr:*:*:repository/team-a/*"}, ["team-b/"], None),
        (
            {"Action": "ecr:*", "Resource": "arn:aws:ecr:*:*:repository/team-?/*"},
            ["team-b/"],
            ("x",),
        ),
        ({"Action": "ecr:*", "Resource": "arn:aws:ecr:*:*:repository/te*"}, ["t"], ("x",)),
        ({"Action": "ecr:*", "NotResource": "arn:aws:ecr:*:*:repository/*"}, [""], None),
        ({"Action": "ecr:*", "NotResource": "arn:aws:ecr:*:*:repository/a*"}, ["b"], ("x",)),
        ({"Action": "ecr:*", "NotResource": "arn:aws:ecr:*:*:repository/a*"}, ["ab"], None),
    ],
)
def test_denial_follows_iam_matching(
    statement: dict[str, Any], prefixes: list[str], expected: tuple[str, ...] | None
) -> None:
    full = {"Effect": "Deny", "Principal": {"AWS": "111111111111"}, **statement}
    found = denial(
        full, "111111111111", "aws", "arn:aws:ecr:us-east-1:222222222222:repository/", prefixes
    )
    if expected is None:
        assert found is None
    elif expected == ("x",):
        assert found is not None
    else:
        assert found is not None and found.actions == expected


@pytest.mark.parametrize(
    ("principal", "covered", "conditional"),
    [
        ("*", True, False),
        ({"AWS": "*"}, True, False),
        ({"AWS": "111111111111"}, True, False),
        ({"AWS": "arn:aws:iam::111111111111:root"}, True, False),
        ({"AWS": "arn:aws:iam::111111111111:role/ci"}, True, True),
        ({"AWS": "arn:aws:iam::999999999999:root"}, False, False),
        ({"Service": "replication.ecr.amazonaws.com"}, False, False),
    ],
)
def test_denial_principals(principal: Any, covered: bool, conditional: bool) -> None:
    statement = {"Effect": "Deny", "Principal": principal, "Action": "ecr:*", "Resource": "*"}
    found = denial(statement, "111111111111", "aws", "arn:aws:ecr:us-east-1:2:repository/", [""])
    assert (found is not None) is covered
    if found is not None:
        assert found.conditional is conditional


def test_not_principal_deny_spares_the_listed_account() -> None:
    statement = {
        "Effect": "Deny",
        "NotPrincipal": {"AWS": "arn:aws:iam::111111111111:root"},
        "Action": "ecr:*",
        "Resource": "*",
    }
    arn = "arn:aws:ecr:us-east-1:2:repository/"
    assert denial(statement, "111111111111", "aws", arn, [""]) is None
    assert denial(statement, "333333333333", "aws", arn, [""]) is not None


def test_wildcards_are_iam_wildcards_not_shell_globs() -> None:
    assert wildcard_match("repository/[ab]*", "repository/[ab]x")
    assert not wildcard_match("repository/[ab]*", "repository/a")
    assert wildcard_match("a?c*", "abcdef")


def test_import_marks_live_statements_the_spec_would_refuse() -> None:
    """An imported policy keeps its wildcard Allow and its Deny, each with the opt-in it needs,
    so the imported spec validates and says what the live policy does."""
    from tfgen.aws.import_policies import import_policies
    from tfgen.aws.live import LiveRegistry

    wildcard = {
        "Sid": "OrgPull",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "ecr:ReplicateImage",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}},
    }
    deny = {
        "Sid": "NoStaging",
        "Effect": "Deny",
        "Principal": {"AWS": "333333333333"},
        "Action": "ecr:CreateRepository",
        "Resource": "*",
    }
    live = LiveRegistry(
        "prod",
        "222222222222",
        "us-east-1",
        None,
        {"Version": "2012-10-17", "Statement": [wildcard, deny]},
        (),
    )
    names = {"222222222222": "prod", "111111111111": "build", "333333333333": "staging"}
    sources = {("222222222222", "us-east-1"): {"333333333333": ("",)}}
    result = import_policies([live], names, sources, "aws")
    statements = result.registry_policies["prod"]["statements"]
    assert [s.get("tfgen_accept") for s in statements] == [
        ["any_principal"],
        ["denies_replication"],
    ]
    assert any("OrgPull" in n and "review it" in n for n in result.notes)
    body = "\n".join(f"      - {json.dumps(s)}" for s in statements)
    spec = SPEC.format(statements=body)
    state = compile_loaded(load_spec_text(spec))
    (prod,) = [r for r in state.registries if r.account == "prod"]
    assert [dict(s) for s in prod.extra_statements] == [wildcard, deny]
