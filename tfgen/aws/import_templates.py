"""Repository creation templates (DescribeRepositoryCreationTemplates) → spec `creation_templates`.

Identical templates are grouped into one entry per set of accounts that have them in the same
Regions, since an entry applies to every listed account in every listed Region.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from tfgen.aws.live import LiveRegistry
from tfgen.state import compact_json


def spec_template(api: Mapping[str, Any], label: str, notes: list[str]) -> dict[str, Any]:
    """A template's settings in the spec's spelling (without `accounts` and `regions`)."""
    enc = api.get("encryptionConfiguration") or {}
    out: dict[str, Any] = {"prefix": api["prefix"]}
    if api.get("description"):
        out["description"] = api["description"]
    out["applied_for"] = list(api.get("appliedFor") or ["REPLICATION"])
    out["image_tag_mutability"] = api.get("imageTagMutability") or "MUTABLE"
    encryption: dict[str, Any] = {"type": enc.get("encryptionType") or "AES256"}
    if enc.get("kmsKey"):
        encryption["kms_key"] = enc["kmsKey"]
    out["encryption"] = encryption
    for key, api_key in (
        ("lifecycle_policy", "lifecyclePolicy"),
        ("repository_policy", "repositoryPolicy"),
    ):
        text = api.get(api_key)
        if text:
            out[key] = json.loads(text) if isinstance(text, str) else text
    tags = api.get("resourceTags") or []
    if tags:
        out["resource_tags"] = {t["Key"]: t["Value"] for t in tags}
    if api.get("customRoleArn"):
        out["custom_role_arn"] = api["customRoleArn"]
    filters = api.get("imageTagMutabilityExclusionFilters") or []
    if filters:
        out["image_tag_mutability_exclusion_filters"] = [
            f["filter"]
            if f.get("filterType", "WILDCARD") == "WILDCARD"
            else {"filter": f["filter"], "filter_type": f["filterType"]}
            for f in filters
        ]
    return out


def import_templates(
    live: Sequence[LiveRegistry], names: Mapping[str, str], notes: list[str]
) -> list[dict[str, Any]]:
    where: dict[str, dict[str, list[str]]] = {}  # template JSON → account → Regions
    settings: dict[str, dict[str, Any]] = {}
    unread = [r.label for r in live if r.creation_templates is None]
    if unread:
        which = "" if len(unread) == len(live) else f" from {', '.join(unread)}"
        notes.append(
            f"creation templates not imported{which}: the endpoint does not implement "
            "DescribeRepositoryCreationTemplates"
        )
    for registry in live:
        for api in registry.creation_templates or ():
            template = spec_template(api, registry.label, notes)
            key = compact_json(template)
            settings[key] = template
            account = names[registry.account_id]
            where.setdefault(key, {}).setdefault(account, []).append(registry.region)
    entries: list[dict[str, Any]] = []
    for key, accounts in where.items():
        by_regions: dict[tuple[str, ...], list[str]] = {}
        for account, regions in accounts.items():
            by_regions.setdefault(tuple(regions), []).append(account)
        entries.extend(
            {"accounts": names_, "regions": list(regions), **settings[key]}
            for regions, names_ in by_regions.items()
        )
    return sorted(entries, key=lambda e: (e["prefix"], e["accounts"], e["regions"]))


__all__ = ["import_templates", "spec_template"]
