"""Canonical forms of replication rules, policy statements and creation templates.

Two values with the same canonical form mean the same thing to ECR and IAM, which is what verify
compares. IAM treats as equal: a principal given as an account id or as `arn:<p>:iam::<id>:root`;
a single string or a one-element list; the order of actions, resources and principals; the case of
action names; "*" and {"AWS": "*"}. The Sid is kept: Terraform compares it too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from tfgen.state import compact_json

_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")

Destination = tuple[str, str]  # (region, registry id)
RuleKey = tuple[frozenset[Destination], frozenset[str]]


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def rule_destinations(rule: Mapping[str, Any]) -> list[Destination]:
    return [(d["region"], d["registryId"]) for d in rule.get("destinations", [])]


def rule_filters(rule: Mapping[str, Any]) -> list[str]:
    """Filters as written; a filter type other than PREFIX_MATCH keeps its type visible."""
    out = []
    for f in rule.get("repositoryFilters") or []:
        kind = f.get("filterType", "PREFIX_MATCH")
        out.append(f["filter"] if kind == "PREFIX_MATCH" else f"{kind}:{f['filter']}")
    return out


def rule_key(rule: Mapping[str, Any]) -> RuleKey:
    return frozenset(rule_destinations(rule)), frozenset(rule_filters(rule))


def _principal(value: Any, partition: str) -> Any:
    if value == "*":
        value = {"AWS": "*"}
    if not isinstance(value, Mapping):
        return value
    out: dict[str, list[Any]] = {}
    for kind, members in value.items():
        items = as_list(members)
        if kind == "AWS":
            items = [
                f"arn:{partition}:iam::{m}:root"
                if isinstance(m, str) and _ACCOUNT_ID.fullmatch(m)
                else m
                for m in items
            ]
        out[kind] = sorted(set(map(str, items)))
    return out


def _condition(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    # Condition keys are case-insensitive; operators are not. Values compare as strings.
    return {
        op: {k.lower(): sorted({_scalar(v) for v in as_list(vs)}) for k, vs in keys.items()}
        if isinstance(keys, Mapping)
        else keys
        for op, keys in value.items()
    }


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def statement(stmt: Mapping[str, Any], partition: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in stmt.items():
        if key in ("Action", "NotAction"):
            out[key] = sorted(
                {str(a).lower() for a in as_list(value)}
            )  # IAM action names ignore case
        elif key in ("Resource", "NotResource"):
            out[key] = sorted({str(r) for r in as_list(value)})
        elif key in ("Principal", "NotPrincipal"):
            out[key] = _principal(value, partition)
        elif key == "Condition":
            out[key] = _condition(value)
        else:
            out[key] = value
    return out


def statement_key(stmt: Mapping[str, Any], partition: str) -> str:
    return compact_json(statement(stmt, partition))


def statements(policy: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if policy is None:
        return []
    return [s for s in as_list(policy.get("Statement")) if isinstance(s, Mapping)]


def _json_text(value: Any) -> Any:
    """A policy given as JSON text (as the API returns it) → parsed; unparsable text stays as is."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def policy_document(value: Any, partition: str) -> Any:
    """A whole policy document, statements in canonical form and order-free."""
    doc = _json_text(value)
    if not isinstance(doc, Mapping):
        return doc
    return {
        "Version": doc.get("Version"),
        "Statement": sorted(statement_key(s, partition) for s in statements(doc)),
    }


def exclusion_filters(api: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A template's tag-mutability exclusion filters as sorted (filter, type) pairs."""
    return sorted(
        (str(f.get("filter")), str(f.get("filterType", "WILDCARD")))
        for f in api.get("imageTagMutabilityExclusionFilters") or []
        if isinstance(f, Mapping)
    )


def template(api: Mapping[str, Any], partition: str) -> dict[str, Any]:
    """A creation template (request or DescribeRepositoryCreationTemplates shape) in canonical form."""
    enc = api.get("encryptionConfiguration") or {}
    tags: Sequence[Mapping[str, str]] = api.get("resourceTags") or []
    repository_policy = api.get("repositoryPolicy")
    lifecycle = _json_text(api.get("lifecyclePolicy"))
    return {
        "prefix": api.get("prefix"),
        "description": api.get("description") or None,
        # A set to ECR and the provider: a repeated value is no difference.
        "appliedFor": sorted(set(api.get("appliedFor") or [])),
        "imageTagMutability": api.get("imageTagMutability") or "MUTABLE",
        "imageTagMutabilityExclusionFilters": exclusion_filters(api) or None,
        "encryptionType": enc.get("encryptionType") or "AES256",
        "kmsKey": enc.get("kmsKey") or None,
        "resourceTags": sorted((t["Key"], t["Value"]) for t in tags),
        "lifecyclePolicy": lifecycle or None,
        "repositoryPolicy": policy_document(repository_policy, partition)
        if repository_policy
        else None,
        "customRoleArn": api.get("customRoleArn") or None,
    }


__all__ = [
    "Destination",
    "RuleKey",
    "as_list",
    "exclusion_filters",
    "policy_document",
    "rule_destinations",
    "rule_filters",
    "rule_key",
    "statement",
    "statement_key",
    "statements",
    "template",
]
