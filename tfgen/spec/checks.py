"""Rules that span fields of a spec: names defined, ids, Regions per partition, filters, policies.

Each check appends Issues with the spec path of the offending value; all problems are reported at once.
Limits that need the per-registry view (rules, destinations, policy size) are checked in compile.py.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from tfgen import limits
from tfgen.constants import GRANT_SID, GRANT_SID_PATTERN
from tfgen.spec import arns, placeholders, regions, terraform_version
from tfgen.spec.backend import check_backend
from tfgen.spec.document import MAX_DEPTH
from tfgen.spec.issues import Issue, Severity, SpecPath, did_you_mean
from tfgen.spec.model import Endpoint, Spec
from tfgen.spec.policy import statement_issues
from tfgen.spec.provider import provider_issues
from tfgen.spec.templates import template_issues

_ACCOUNT_ID = re.compile(limits.ACCOUNT_ID_PATTERN)
_FILTER = re.compile(limits.FILTER_PATTERN)
_PREFIX = re.compile(limits.TEMPLATE_PREFIX_PATTERN)
_SID = re.compile(r"^[A-Za-z0-9]*$")
_GRANT_SID = re.compile(GRANT_SID_PATTERN)
# A replication name is written into comments of the rendered Terraform and into reports: a label,
# never a line break or markup. '/' joins the names of entries an Organizations target expands to.
_ENTRY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._:/()+=,@-]{0,127}")
ENTRY_NAME_RULE = (
    "1 to 128 letters, digits, spaces and . _ - : / ( ) + = , @, starting with a letter or digit"
)
# Free-form JSON (policies, statements) larger than this cannot fit ECR's 30,720-character limit.
_MAX_JSON_NODES = 50_000
# Under registry policy scope V1 only these are allowed (ECR User Guide, registry permissions).
_V1_ACTIONS = {
    "ecr:ReplicateImage",
    "ecr:CreateRepository",
    "ecr:BatchImportUpstreamImage",
    "ecr:*",
}
_RCT_UNSUPPORTED = {"cn-north-1", "cn-northwest-1", "us-gov-east-1", "us-gov-west-1"}


def _error(issues: list[Issue], path: SpecPath, message: str) -> None:
    issues.append(Issue(path, message))


def _warn(issues: list[Issue], path: SpecPath, message: str) -> None:
    issues.append(Issue(path, message, Severity.WARNING))


def check_spec(spec: Spec) -> list[Issue]:
    issues: list[Issue] = []
    _check_accounts(spec, issues)
    _check_defaults(spec, issues)
    first: dict[str, int] = {}
    for i, entry in enumerate(spec.replication):
        base: SpecPath = ("replication", i)
        if entry.name is not None:
            if not _ENTRY_NAME.fullmatch(entry.name):
                _error(
                    issues,
                    (*base, "name"),
                    f"name {entry.name!r} must be {ENTRY_NAME_RULE} (it is written into comments "
                    "of the rendered Terraform)",
                )
            elif entry.name in first:
                _error(
                    issues,
                    (*base, "name"),
                    f"name '{entry.name}' is already used by replication[{first[entry.name]}]; names are unique",
                )
            first.setdefault(entry.name, i)
        source_partition = _check_endpoint(spec, entry.from_, (*base, "from"), issues)
        for j, target in enumerate(entry.to):
            partition = _check_endpoint(spec, target, (*base, "to", j), issues)
            if source_partition and partition and partition != source_partition:
                _error(
                    issues,
                    (*base, "to", j, "account"),
                    f"account '{target.account}' is in partition {partition} but the source "
                    f"'{entry.from_.account}' is in {source_partition}; ECR does not replicate "
                    "across partitions",
                )
        _check_filters(entry.filters, (*base, "filters"), issues)
    _check_registry_policies(spec, issues)
    _check_templates(spec, issues)
    _check_documents(spec, issues)
    issues.extend(provider_issues(spec))
    return issues


def _check_documents(spec: Spec, issues: list[Issue]) -> None:
    """The free-form parts (statements, template policies) are JSON: they reach jsonencode()."""
    for name, policy in spec.registry_policies.items():
        for k, statement in enumerate(policy.statements):
            _check_json(statement, ("registry_policies", name, "statements", k), issues)
    for i, template in enumerate(spec.creation_templates):
        for key in ("lifecycle_policy", "repository_policy"):
            document = getattr(template, key)
            if document is not None:
                _check_json(document, ("creation_templates", i, key), issues)


def _json_problem(value: Any) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value!r} is not a finite number; JSON and Terraform have no infinity or NaN"
    if value is None or isinstance(value, str | bool | int | float | list | dict):
        return None
    return (
        f"a {type(value).__name__} is not JSON data (text, numbers, true/false, null, lists "
        "and mappings)"
    )


def _check_json(document: Any, path: SpecPath, issues: list[Issue]) -> None:
    """Report the first value of a free-form document that JSON (and HCL) cannot hold."""
    todo: list[tuple[SpecPath, Any]] = [(path, document)]
    seen = 0
    while todo:
        where, value = todo.pop()
        seen += 1
        problem = _json_problem(value)
        if problem is None and seen > _MAX_JSON_NODES:
            problem = f"more than {_MAX_JSON_NODES:,} values; ECR's policy limits are far smaller"
            where = path
        elif problem is None and len(where) > MAX_DEPTH:
            problem = f"nested more than {MAX_DEPTH} levels deep"
        if problem is not None:
            _error(issues, where, problem)
            return
        if isinstance(value, dict):
            for k, v in value.items():
                if not isinstance(k, str):
                    _error(issues, where, f"key {k!r} is not text; JSON keys are strings")
                    return
                todo.append(((*where, k), v))
        elif isinstance(value, list):
            todo.extend(((*where, n), v) for n, v in enumerate(value))


def _check_accounts(spec: Spec, issues: list[Issue]) -> None:
    if not spec.accounts:
        _error(
            issues,
            ("accounts",),
            "must not be empty: define at least one account, or name accounts through an "
            "Organizations target in 'replication'",
        )
    owner: dict[str, str] = {}
    for name, account in spec.accounts.items():
        path: SpecPath = ("accounts", name)
        if not _ACCOUNT_ID.fullmatch(account.id):
            _error(
                issues,
                (*path, "id"),
                f"account id {account.id!r} must be exactly 12 digits (quote it to keep leading zeros)",
            )
        elif account.id in owner:
            _error(
                issues,
                (*path, "id"),
                f"account id {account.id} is already used by account '{owner[account.id]}'; "
                "each account is listed once",
            )
        else:
            owner[account.id] = name
        if account.partition not in regions.partitions():
            _error(
                issues,
                (*path, "partition"),
                f"unknown partition {account.partition!r}"
                + did_you_mean(account.partition, regions.partitions()),
            )
        role = account.role_arn or spec.defaults.role_arn
        if role is not None:
            where = (*path, "role_arn") if account.role_arn else ("defaults", "role_arn")
            _check_role_arn(role, name, account.id, account.partition, where, issues)


def _check_role_arn(
    template: str, name: str, account_id: str, partition: str, path: SpecPath, issues: list[Issue]
) -> None:
    bad = placeholders.problem(template, ("account", "account_id"))
    if bad is not None:
        _error(issues, path, f"{bad}; use {{account_id}} or {{account}}")
        return
    arn = placeholders.fill(template, {"account": name, "account_id": account_id})
    match = arns.role_arn(arn)
    if not match:
        _error(
            issues,
            path,
            f"{arn!r} is not an IAM role ARN like 'arn:{partition}:iam::{account_id}:role/NAME' "
            "(ASCII letters, digits and +=,.@_-/)",
        )
    elif match.group(1) != partition:
        _error(
            issues,
            path,
            f"role ARN {arn!r} is in partition {match.group(1)} but account '{name}' "
            f"is in {partition}; write 'arn:{partition}:iam::...'",
        )


def _check_defaults(spec: Spec, issues: list[Issue]) -> None:
    backend = spec.defaults.backend
    if backend is not None:
        issues.extend(check_backend(backend.s3))
    elif len(spec.accounts) > 1:
        _warn(
            issues,
            ("defaults",) if "defaults" in spec.model_fields_set else (),
            f"no backend for {len(spec.accounts)} accounts: every stack would keep its Terraform "
            "state in a local file inside the rendered tree, which a CI job loses and a commit "
            "publishes; set defaults.backend.s3 (a state bucket) before the first apply",
        )
    constraint = spec.defaults.terraform.required_version
    if constraint is not None:
        bad = terraform_version.problem(constraint, terraform_version.features(spec))
        if bad is not None:
            _error(issues, ("defaults", "terraform", "required_version"), bad)


def _account_partition(spec: Spec, name: str | None) -> str | None:
    account = spec.accounts.get(name) if name is not None else None
    return account.partition if account else None


def _check_account_ref(spec: Spec, name: str, path: SpecPath, issues: list[Issue]) -> bool:
    if name in spec.accounts:
        return True
    _error(
        issues,
        path,
        f"account '{name}' is not defined under 'accounts'" + did_you_mean(name, spec.accounts),
    )
    return False


def _check_regions(
    values: Iterable[str], partition: str | None, path: SpecPath, issues: list[Issue]
) -> None:
    seen: set[str] = set()
    known = regions.ecr_regions(partition) if partition else frozenset()
    for k, region in enumerate(values):
        where = (*path, k)
        if region in seen:
            _error(issues, where, f"Region '{region}' is listed twice")
        seen.add(region)
        if partition is None or region in known:
            continue
        elsewhere = regions.partition_of(region)
        if elsewhere is not None:
            _error(
                issues,
                where,
                f"Region '{region}' is in partition {elsewhere}, but the account is in "
                f"{partition}; set the account's 'partition: {elsewhere}' or pick a Region of {partition}",
            )
        else:
            _error(
                issues,
                where,
                f"'{region}' is not a Region where ECR is available in partition "
                f"{partition}" + did_you_mean(region, known),
            )


def _check_endpoint(
    spec: Spec, endpoint: Endpoint, path: SpecPath, issues: list[Issue]
) -> str | None:
    if endpoint.account is None:
        what = "organizational_unit" if endpoint.organizational_unit else "organization"
        if endpoint.organizational_unit is None and not endpoint.organization:
            _error(
                issues,
                path,
                "missing required key 'account' (or 'organizational_unit' / 'organization: true')",
            )
        else:
            _error(
                issues,
                (*path, what),
                "Organizations targets need a lock file beside the spec; "
                "run 'tfgen lock' to resolve them into accounts",
            )
        return None
    if endpoint.organizational_unit is not None or endpoint.organization is not None:
        _error(
            issues,
            path,
            "give one of 'account', 'organizational_unit' or 'organization', not several",
        )
    if not _check_account_ref(spec, endpoint.account, (*path, "account"), issues):
        return None
    partition = _account_partition(spec, endpoint.account)
    _check_regions(endpoint.regions, partition, (*path, "regions"), issues)
    return partition


def _check_filters(filters: list[str], path: SpecPath, issues: list[Issue]) -> None:
    limit = limits.FILTERS_PER_RULE
    if len(filters) > limit.value:
        _error(
            issues,
            path,
            f"{len(filters)} filters; at most {limit.value} {limit.what} ({limit.source})",
        )
    seen: dict[str, int] = {}
    valid: dict[str, int] = {}
    for k, value in enumerate(filters):
        where = (*path, k)
        if value in seen:
            _error(issues, where, f"filter '{value}' is listed twice (filters[{seen[value]}])")
            continue
        seen[value] = k
        if not limits.FILTER_MIN_LENGTH.value <= len(value) <= limits.FILTER_MAX_LENGTH.value:
            chars = "character" if len(value) == 1 else "characters"
            _error(
                issues,
                where,
                f"filter {value!r} has {len(value)} {chars}; a filter has "
                f"{limits.FILTER_MIN_LENGTH.value} to {limits.FILTER_MAX_LENGTH.value}",
            )
        elif value != value.lower() and _FILTER.fullmatch(value.lower()):
            _error(
                issues,
                where,
                f"filter {value!r} has uppercase letters; repository names are "
                f"lowercase, did you mean '{value.lower()}'?",
            )
        elif not _FILTER.fullmatch(value):
            hint = " (filters are plain prefixes: drop the '*')" if "*" in value else ""
            _error(
                issues,
                where,
                f"filter {value!r} is not a repository name prefix: lowercase letters, "
                f"digits, '.', '_', '-' and '/'-separated parts{hint}",
            )
        else:
            valid[value] = k
    # At most 100 filters: comparing every pair is cheap and, unlike neighbours in sorted
    # order, finds 'abd' covered by 'ab' when 'abc' sits between them.
    for value, k in valid.items():
        cover = min((f for f in valid if f != value and value.startswith(f)), key=len, default=None)
        if cover is not None:
            _warn(
                issues,
                (*path, k),
                f"filter '{value}' is already covered by filter '{cover}' "
                "(filters are prefixes), so it has no effect",
            )


def _check_registry_policies(spec: Spec, issues: list[Issue]) -> None:
    for name, policy in spec.registry_policies.items():
        path: SpecPath = ("registry_policies", name)
        if not _check_account_ref(spec, name, path, issues):
            continue
        if policy.regions is not None:
            _check_regions(
                policy.regions, _account_partition(spec, name), (*path, "regions"), issues
            )
        sids: dict[str, int] = {}
        for k, statement in enumerate(policy.statements):
            where = (*path, "statements", k)
            partition = _account_partition(spec, name) or "aws"
            _check_statement(statement, where, partition, sids, k, issues)


def _check_statement(
    statement: dict[str, Any],
    path: SpecPath,
    partition: str,
    sids: dict[str, int],
    index: int,
    issues: list[Issue],
) -> None:
    issues.extend(statement_issues(statement, path, partition))
    sid = statement.get("Sid")
    if sid is not None:
        if not isinstance(sid, str) or not _SID.fullmatch(sid):
            _error(issues, (*path, "Sid"), f"Sid {sid!r} must contain only letters and digits")
        elif _GRANT_SID.fullmatch(sid):
            _error(
                issues,
                (*path, "Sid"),
                f"Sid '{sid}' has the form of the Sids tfgen gives its replication grants "
                f"({GRANT_SID} and {GRANT_SID} followed by lowercase hex digits); choose another",
            )
        elif sid in sids:
            _error(
                issues,
                (*path, "Sid"),
                f"Sid '{sid}' is already used by statements[{sids[sid]}]; "
                "Sids in one policy are unique",
            )
        else:
            sids[sid] = index
    actions = statement.get("Action", [])
    actions = [actions] if isinstance(actions, str) else actions
    if isinstance(actions, list):
        extra = sorted(
            a
            for a in actions
            if isinstance(a, str) and a not in _V1_ACTIONS and a.lower().startswith(("ecr:", "*"))
        )
        if extra:
            _warn(
                issues,
                (*path, "Action"),
                f"{', '.join(extra)}: accepted only where the registry "
                "policy scope is V2 (the default for new registries); under V1 the API rejects it",
            )


def _check_templates(spec: Spec, issues: list[Issue]) -> None:
    for i, template in enumerate(spec.creation_templates):
        path: SpecPath = ("creation_templates", i)
        for k, name in enumerate(template.accounts):
            if _check_account_ref(spec, name, (*path, "accounts", k), issues) and template.regions:
                _check_regions(
                    template.regions, _account_partition(spec, name), (*path, "regions"), issues
                )
        prefix = template.prefix
        if len(prefix) > limits.PREFIX_MAX_LENGTH.value or not _PREFIX.fullmatch(prefix):
            _error(
                issues,
                (*path, "prefix"),
                f"prefix {prefix!r} must be 'ROOT' or a repository name "
                "prefix such as 'team-a' or 'team-a/app' (lowercase)",
            )
        enc = template.encryption
        if enc.type == "AES256" and enc.kms_key:
            _error(
                issues,
                (*path, "encryption", "kms_key"),
                "kms_key is used only with type KMS or KMS_DSSE",
            )
        if (enc.type != "AES256" or template.resource_tags) and not template.custom_role_arn:
            _warn(
                issues,
                path,
                "KMS encryption or resource tags need 'custom_role_arn' (a role in the "
                "destination account that ECR assumes); without it repository creation can fail",
            )
        issues.extend(template_issues(template, path, spec.accounts))
        for region in template.regions or ():
            if region in _RCT_UNSUPPORTED:
                _warn(
                    issues,
                    (*path, "regions"),
                    f"the ECR User Guide lists {region} as a Region without "
                    "repository creation templates",
                )
