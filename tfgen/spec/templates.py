"""Creation-template checks beyond the shape: the limits where the Terraform AWS provider is
stricter than the ECR API, tag-mutability exclusion filters, tags, and the role and KMS key ARNs.

Checks that need the template's Regions (a KMS key must live in the Region of the template it
encrypts for) are in compile.py, where implicit Regions are known.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from tfgen import limits
from tfgen.spec import arns, placeholders
from tfgen.spec.issues import Issue, SpecPath
from tfgen.spec.model import Account, CreationTemplate

# An IAM role ARN: ASCII name characters only ([\w] would let any Unicode letter through).
_KMS_KEY = re.compile(limits.KMS_KEY_PATTERN)
_KMS_ARN = re.compile(r"arn:([^:]+):kms:([^:]+):([^:]+):key/.*")
_EXCLUSION_FILTER = re.compile(limits.EXCLUSION_FILTER_PATTERN)
_PLACEHOLDERS = ("account", "account_id")


def template_issues(
    template: CreationTemplate, path: SpecPath, accounts: Mapping[str, Account]
) -> list[Issue]:
    out: list[Issue] = []
    _check_lengths(template, path, out)
    _check_applied_for(template.applied_for, (*path, "applied_for"), out)
    _check_exclusions(template, path, out)
    _check_tags(template.resource_tags, (*path, "resource_tags"), out)
    known = [(name, accounts[name]) for name in template.accounts if name in accounts]
    if template.custom_role_arn is not None:
        for name, account in known:
            role = expand_role(template.custom_role_arn, name, account.id)
            problem = role_problem(role, template.custom_role_arn, name, account)
            if problem:
                out.append(Issue((*path, "custom_role_arn"), problem))
                break
    _check_kms_keys(template, path, {a.partition for _, a in known}, out)
    return out


def _check_lengths(template: CreationTemplate, path: SpecPath, out: list[Issue]) -> None:
    low = limits.PREFIX_MIN_LENGTH
    if len(template.prefix) < low.value:
        out.append(
            Issue(
                (*path, "prefix"),
                f"prefix {template.prefix!r} is too short: {low.why('at least')}",
            )
        )
    high = limits.TEMPLATE_DESCRIPTION_MAX_LENGTH
    if template.description is not None and len(template.description) > high.value:
        out.append(
            Issue(
                (*path, "description"),
                f"{len(template.description)} characters; {high.why()}",
            )
        )


def _check_applied_for(values: Sequence[str], path: SpecPath, out: list[Issue]) -> None:
    if not values:
        out.append(
            Issue(
                path,
                "must name at least one of REPLICATION, PULL_THROUGH_CACHE, CREATE_ON_PUSH "
                "(the Terraform AWS provider requires one; the template would apply to nothing)",
            )
        )
    seen: dict[str, int] = {}
    for k, value in enumerate(values):
        if value in seen:
            out.append(
                Issue(
                    (*path, k),
                    f"'{value}' is listed twice (applied_for[{seen[value]}]); the provider keeps a "
                    "set, so a repeat would show as a difference forever",
                )
            )
        seen.setdefault(value, k)


def _check_exclusions(template: CreationTemplate, path: SpecPath, out: list[Issue]) -> None:
    filters = template.image_tag_mutability_exclusion_filters
    where = (*path, "image_tag_mutability_exclusion_filters")
    exclusion = template.image_tag_mutability.endswith("_WITH_EXCLUSION")
    if exclusion and not filters:
        out.append(
            Issue(
                (*path, "image_tag_mutability"),
                f"{template.image_tag_mutability} needs 'image_tag_mutability_exclusion_filters' "
                f"(1 to {limits.EXCLUSION_FILTERS_MAX.value} tag filters such as 'latest' or "
                "'dev-*'); the ECR API rejects it without them",
            )
        )
    if filters and not exclusion:
        out.append(
            Issue(
                where,
                "exclusion filters apply only with image_tag_mutability IMMUTABLE_WITH_EXCLUSION "
                f"or MUTABLE_WITH_EXCLUSION, not {template.image_tag_mutability}",
            )
        )
    most = limits.EXCLUSION_FILTERS_MAX
    if len(filters) > most.value:
        out.append(Issue(where, f"{len(filters)} filters; {most.why()}"))
    seen: dict[str, int] = {}
    for k, item in enumerate(filters):
        at = (*where, k, "filter")
        value = item.filter
        wildcards = limits.EXCLUSION_FILTER_WILDCARDS
        if value in seen:
            out.append(Issue(at, f"filter {value!r} is listed twice ({seen[value]})"))
        seen.setdefault(value, k)
        if not 1 <= len(value) <= limits.EXCLUSION_FILTER_MAX_LENGTH.value:
            out.append(
                Issue(
                    at,
                    f"filter {value!r} has {len(value)} characters; the ECR API allows 1 to "
                    f"{limits.EXCLUSION_FILTER_MAX_LENGTH.value}",
                )
            )
        elif not _EXCLUSION_FILTER.fullmatch(value):
            out.append(
                Issue(
                    at,
                    f"filter {value!r} may hold only letters, digits, '.', '_', '-' and the "
                    "wildcard '*' (the ECR API's pattern)",
                )
            )
        elif value.count("*") > wildcards.value:
            out.append(Issue(at, f"filter {value!r} has {value.count('*')} '*'; {wildcards.why()}"))


def _check_tags(tags: Mapping[str, str], path: SpecPath, out: list[Issue]) -> None:
    most = limits.TAGS_PER_TEMPLATE
    if len(tags) > most.value:
        out.append(Issue(path, f"{len(tags)} tags; AWS allows at most {most.value} per resource"))
    for key, value in tags.items():
        at = (*path, key)
        key_max, value_max = limits.TAG_KEY_MAX_LENGTH, limits.TAG_VALUE_MAX_LENGTH
        if not 1 <= len(key) <= key_max.value:
            out.append(
                Issue(
                    at,
                    f"tag key has {len(key)} characters; the ECR API allows 1 to {key_max.value}",
                )
            )
        if len(value) > value_max.value:
            out.append(Issue(at, f"tag value has {len(value)} characters; {value_max.why()}"))
        if key.lower().startswith("aws:"):
            out.append(Issue(at, f"tag key {key!r}: the prefix 'aws:' is reserved for AWS"))


def expand_role(template: str, name: str, account_id: str) -> str:
    """custom_role_arn with {account} and {account_id} filled in for one account (literally:
    never str.format on a user's text, see tfgen/spec/placeholders.py)."""
    return placeholders.fill(template, {"account": name, "account_id": account_id})


def role_problem(role: str, written: str, name: str, account: Account) -> str | None:
    bad = placeholders.problem(written, _PLACEHOLDERS)
    if bad:
        return f"{bad}; use {{account_id}} or {{account}}"
    if len(role) > limits.ROLE_ARN_MAX_LENGTH.value:
        return f"{len(role):,} characters; the ECR API allows at most {limits.ROLE_ARN_MAX_LENGTH.value:,}"
    match = arns.role_arn(role)
    example = f"arn:{account.partition}:iam::{account.id}:role/NAME"
    if not match:
        return (
            f"{role!r} is not an IAM role ARN like '{example}' (ASCII letters, digits and "
            "+=,.@_-/ only)"
        )
    if match.group(1) != account.partition:
        return f"{role!r} is in partition {match.group(1)}, but account '{name}' is in {account.partition}"
    if match.group(2) != account.id:
        return (
            f"{role!r} is a role of account {match.group(2)}, but ECR assumes a role of the "
            f"registry's own account ('{name}', {account.id}); write '{example}', or "
            "'arn:...:iam::{account_id}:role/NAME' for a template in several accounts"
        )
    return None


def _check_kms_keys(
    template: CreationTemplate, path: SpecPath, partitions: set[str], out: list[Issue]
) -> None:
    key = template.encryption.kms_key
    where = (*path, "encryption", "kms_key")
    keys: list[tuple[SpecPath, str | None, str]] = (
        [(where, None, key)] if isinstance(key, str) else []
    )
    if isinstance(key, dict):
        keys = [((*where, region), region, arn) for region, arn in key.items()]
        if not key:
            out.append(Issue(where, "an empty mapping; give a key ARN per Region, or leave it out"))
    for at, region, arn in keys:
        if len(arn) > limits.KMS_KEY_MAX_LENGTH.value or not _KMS_KEY.fullmatch(arn):
            out.append(
                Issue(at, f"{arn!r} is not a KMS key ARN like 'arn:aws:kms:REGION:ACCOUNT:key/ID'")
            )
            continue
        match = _KMS_ARN.fullmatch(arn)
        assert match is not None
        if partitions and match.group(1) not in partitions:
            out.append(
                Issue(at, f"{arn!r} is in partition {match.group(1)}, not the template's accounts'")
            )
        if region is not None and match.group(2) != region:
            out.append(
                Issue(
                    at,
                    f"the key for {region} is in {match.group(2)}; ECR encrypts with a key of the "
                    "repository's own Region",
                )
            )


def kms_region(arn: str) -> str | None:
    match = _KMS_ARN.fullmatch(arn)
    return match.group(2) if match else None


__all__ = ["expand_role", "kms_region", "role_problem", "template_issues"]
