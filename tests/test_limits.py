"""The limits table (tfgen/limits.py): each figure matches its source, the stricter side binds and
says so, and policy sizes are counted on the JSON the provider really sends."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import botocore.loaders
import pytest

from tests import specgen
from tfgen import limits
from tfgen.compile import compile_model
from tfgen.spec import load_spec_text
from tfgen.state import compact_json, sent_json

DOCS = Path(__file__).resolve().parent.parent / "docs" / "spec.md"


def _model_shapes() -> dict[str, Any]:
    shapes: dict[str, Any] = botocore.loaders.Loader().load_service_model("ecr", "service-2")[
        "shapes"
    ]
    return shapes


@pytest.mark.parametrize("limit", [lim for lim in limits.ALL if lim.model], ids=lambda x: x.what)
def test_api_figure_matches_botocores_model(limit: limits.Limit) -> None:
    """A guard: when botocore's ECR model moves a bound, this names the limit to update."""
    assert limit.model is not None
    shape, bound = limit.model
    assert _model_shapes()[shape][bound] == limit.api_value, (
        f"botocore's {shape}.{bound} is {_model_shapes()[shape][bound]}; "
        f"tfgen/limits.py records {limit.api_value} ({limit.source})"
    )


def test_exclusion_filter_type_enum_matches_the_model() -> None:
    shapes = _model_shapes()
    assert tuple(shapes["ImageTagMutabilityExclusionFilterType"]["enum"]) == (
        limits.EXCLUSION_FILTER_TYPES
    )
    assert shapes["ImageTagMutabilityExclusionFilterValue"]["pattern"] == (
        limits.EXCLUSION_FILTER_PATTERN
    )


def test_the_provider_binds_where_it_is_stricter() -> None:
    assert limits.RULES_PER_REGISTRY.value == 10 < limits.RULES_PER_REGISTRY.api_value
    assert limits.DESTINATIONS_PER_RULE.value == 25 < limits.DESTINATIONS_PER_RULE.api_value
    assert limits.RULES_PER_REGISTRY.why() == (
        "the Terraform AWS provider allows at most 10 rules (the ECR API allows 25)"
    )
    for limit in limits.ALL:
        if limit.api is not None:
            assert limit.side == limits.PROVIDER, limit.what


def test_docs_list_every_limit_with_its_figure_side_and_source() -> None:
    text = DOCS.read_text()
    for limit in limits.ALL:
        row = f"| {limit.what} | {limit.value:,} | {limit.side} | {limit.source} |"
        assert row in text, f"docs/spec.md#limits lacks: {row}"


def test_eleven_rules_error_says_the_provider_imposes_it() -> None:
    text = specgen.to_yaml(specgen.too_many_rules(11))
    _, issues = compile_model(load_spec_text(text).spec)
    messages = [i.message for i in issues if i.severity == "error"]
    assert any(
        "the Terraform AWS provider allows at most 10 rules (the ECR API allows 25)" in m
        for m in messages
    ), messages


# ---- sizes as the provider sends them -----------------------------------------------------------


def test_sent_json_escapes_like_go() -> None:
    assert sent_json({"b": "<&>", "a": 1}) == '{"a":1,"b":"\\u003c\\u0026\\u003e"}'
    assert sent_json(["\u2028\u2029"]) == '["\\u2028\\u2029"]'
    # Other non-ASCII stays UTF-8 (one character each), as jsonencode and Go's encoder keep it.
    assert sent_json(["é€"]) == '["é€"]'
    assert len(sent_json({"x": "&" * 10})) == len(compact_json({"x": "&" * 10})) + 50
    # Go writes a float64 that holds an integer without a fraction.
    assert sent_json({"n": 14.0}) == '{"n":14}'


POLICY_SPEC = """\
version: 1
accounts:
  build: {{id: "111111111111"}}
  prod: {{id: "222222222222"}}
replication:
  - from: {{account: build, regions: [us-east-1]}}
    to: [{{account: prod, regions: [us-east-1]}}]
registry_policies:
  prod:
    statements:
      - Sid: Tagged
        Effect: Allow
        Principal: {{AWS: "arn:aws:iam::999999999999:root"}}
        Action: ecr:ReplicateImage
        Resource: "*"
        Condition: {{StringEquals: {{"aws:PrincipalTag/team": "{value}"}}}}
"""


def _policy_sizes(value: str) -> tuple[int, int]:
    state, _ = compile_model(load_spec_text(POLICY_SPEC.format(value=value)).spec)
    (prod,) = [r for r in state.registries if r.account == "prod"]
    policy = prod.registry_policy()
    return len(compact_json(policy)), len(sent_json(policy))


def _value_for(sent: int, ampersands: int) -> str:
    """A condition value that makes the sent policy exactly `sent` characters long."""
    base = _policy_sizes("&" * ampersands)[1]
    return "&" * ampersands + "x" * (sent - base)


@pytest.mark.parametrize("sent", [10240, 10241])
def test_registry_policy_limit_counts_go_escapes(sent: int) -> None:
    value = _value_for(sent, 1000)
    compact, counted = _policy_sizes(value)
    assert counted == sent
    assert compact == sent - 5000  # well under the limit as Python would write it
    if sent <= limits.REGISTRY_POLICY_MAX_LENGTH.value:
        load_spec_text(POLICY_SPEC.format(value=value))
        _, issues = compile_model(load_spec_text(POLICY_SPEC.format(value=value)).spec)
        assert [i for i in issues if i.severity == "error"] == []
    else:
        _, issues = compile_model(load_spec_text(POLICY_SPEC.format(value=value)).spec)
        (error,) = [i for i in issues if i.severity == "error"]
        assert f"would be {sent:,} characters" in error.message
        assert "counted on the JSON the provider sends" in error.message


TEMPLATE_SPEC = """\
version: 1
accounts:
  prod: {{id: "222222222222"}}
creation_templates:
  - accounts: [prod]
    regions: [us-east-1]
    prefix: team-a
    lifecycle_policy: {{rules: [{{rulePriority: 1, description: "{value}", selection: {{tagStatus: any, countType: imageCountMoreThan, countNumber: 10}}, action: {{type: expire}}}}]}}
"""


@pytest.mark.parametrize("sent", [30720, 30721])
def test_template_lifecycle_policy_limit_counts_go_escapes(sent: int) -> None:
    def sizes(value: str) -> int:
        spec = load_spec_text(TEMPLATE_SPEC.format(value=value)).spec
        return len(sent_json(spec.creation_templates[0].lifecycle_policy))

    base = sizes("<" * 3000)
    value = "<" * 3000 + "y" * (sent - base)
    assert sizes(value) == sent
    _, issues = compile_model(load_spec_text(TEMPLATE_SPEC.format(value=value)).spec)
    errors = [i for i in issues if i.severity == "error"]
    if sent <= limits.LIFECYCLE_POLICY_MAX_LENGTH.value:
        assert errors == []
    else:
        (error,) = errors
        assert error.path == ("creation_templates", 0, "lifecycle_policy")
        assert re.search(rf"{sent:,} characters as the provider sends it", error.message)


def test_sizes_are_characters_not_bytes() -> None:
    """jsonencode and the provider keep 'é' as one character; the API limits count characters."""
    value = "é" * 100
    compact, counted = _policy_sizes(value)
    assert counted == compact
    assert len(json.dumps(value, ensure_ascii=False)) == 102
