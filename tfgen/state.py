"""The compiled desired state: one RegistryState per registry (account + Region) tfgen manages.

Rendering, drift checks and imports all consume this one structure. Its JSON form (`to_json`) uses
the ECR API's shapes and key spelling, so it can be compared with DescribeRegistry/GetRegistryPolicy.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# Re-exported: the later steps read these names from the state they compare with.
from tfgen.constants import GRANT_ACTIONS as GRANT_ACTIONS
from tfgen.constants import GRANT_SID as GRANT_SID
from tfgen.constants import GRANT_SID_PATTERN
from tfgen.constants import POLICY_VERSION as POLICY_VERSION
from tfgen.constants import REPLICATE_ONLY_ACTIONS as REPLICATE_ONLY_ACTIONS

GrantScope = Literal["scoped", "wide"]
EVERY_REPOSITORY = ("",)  # the prefixes of a grant of every repository (`repository/*`)
_GRANT_SID = re.compile(GRANT_SID_PATTERN)
_SID_DIGITS = 8  # hex digits of the prefix hash in a scoped grant's Sid


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a rule sends images: one registry (its account id) in one Region."""

    region: str
    registry_id: str

    def to_api(self) -> dict[str, str]:
        return {"region": self.region, "registryId": self.registry_id}


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of a registry's replication configuration: what it sends (by repository prefix
    `filters`, all repositories when empty) to which destinations, and the spec entry it came
    from (for messages and the comment rendered above it)."""

    destinations: tuple[Destination, ...]
    filters: tuple[str, ...]
    entry: int  # index of the replication entry in the spec it came from
    name: str | None = None

    def to_api(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"destinations": [d.to_api() for d in self.destinations]}
        if self.filters:
            rule["repositoryFilters"] = [
                {"filter": f, "filterType": "PREFIX_MATCH"} for f in self.filters
            ]
        return rule


@dataclass(frozen=True, slots=True)
class CreationTemplate:
    """A repository creation template of one registry: the settings ECR gives a repository it
    creates on replication or push (`applied_for`) when its name starts with `prefix`."""

    prefix: str
    applied_for: tuple[str, ...]
    image_tag_mutability: str
    encryption_type: str
    kms_key: str | None
    description: str | None
    lifecycle_policy: Mapping[str, Any] | None
    repository_policy: Mapping[str, Any] | None
    resource_tags: tuple[tuple[str, str], ...]
    custom_role_arn: str | None
    entry: int
    exclusion_filters: tuple[tuple[str, str], ...] = ()  # (filter, filter type), in spec order

    def to_api(self) -> dict[str, Any]:
        """CreateRepositoryCreationTemplate request shape (policies as JSON text, as the API takes them)."""
        enc: dict[str, Any] = {"encryptionType": self.encryption_type}
        if self.kms_key:
            enc["kmsKey"] = self.kms_key
        out: dict[str, Any] = {
            "prefix": self.prefix,
            "appliedFor": list(self.applied_for),
            "imageTagMutability": self.image_tag_mutability,
            "encryptionConfiguration": enc,
        }
        if self.exclusion_filters:
            out["imageTagMutabilityExclusionFilters"] = [
                {"filter": f, "filterType": kind} for f, kind in self.exclusion_filters
            ]
        if self.description is not None:
            out["description"] = self.description
        if self.resource_tags:
            out["resourceTags"] = [{"Key": k, "Value": v} for k, v in self.resource_tags]
        if self.lifecycle_policy is not None:
            out["lifecyclePolicy"] = compact_json(self.lifecycle_policy)
        if self.repository_policy is not None:
            out["repositoryPolicy"] = compact_json(self.repository_policy)
        if self.custom_role_arn is not None:
            out["customRoleArn"] = self.custom_role_arn
        return out


def replication_configuration(rules: tuple[Rule, ...]) -> dict[str, Any] | None:
    """PutReplicationConfiguration's shape of `rules`; None when there are none."""
    return {"rules": [r.to_api() for r in rules]} if rules else None


def minimal_prefixes(prefixes: Iterable[str]) -> tuple[str, ...]:
    """Repository-name prefixes without the ones another covers (`team-a/` covers `team-a/app`),
    sorted; `("",)` (every repository) when one of them is empty."""
    out: list[str] = []
    for prefix in sorted(set(prefixes)):
        if not any(prefix.startswith(kept) for kept in out):
            out.append(prefix)
    return tuple(out)


def is_grant_sid(sid: object) -> bool:
    """Whether a Sid is one tfgen gives its replication grants (reserved for them)."""
    return isinstance(sid, str) and _GRANT_SID.fullmatch(sid) is not None


def grant_sid(prefixes: tuple[str, ...], digits: int = _SID_DIGITS) -> str:
    """The Sid of the grant of `prefixes`: GRANT_SID for every repository, else GRANT_SID and the
    first hex digits of a hash of the prefixes. It depends on the prefixes alone, so a source
    moving to another statement changes only the statements it leaves and joins."""
    if prefixes == EVERY_REPOSITORY:
        return GRANT_SID
    digest = hashlib.sha256("\n".join(prefixes).encode()).hexdigest()
    return GRANT_SID + digest[:digits]


@dataclass(frozen=True, slots=True)
class SourceGrant:
    """A source account that replicates into a registry, and the repository-name prefixes its
    rules replicate there (minimal and sorted; `("",)`: every repository)."""

    account_id: str
    prefixes: tuple[str, ...] = EVERY_REPOSITORY


@dataclass(frozen=True, slots=True)
class GrantStatement:
    """One statement of a registry's replication grant: the sources that share a set of
    repository prefixes."""

    sid: str
    account_ids: tuple[str, ...]  # sorted
    prefixes: tuple[str, ...]  # minimal, sorted; ("",): every repository


@dataclass(frozen=True, slots=True)
class RegistryState:
    """Everything tfgen manages in one registry (one account in one Region): its replication
    rules (what it sends), the source accounts its registry policy lets replicate into it (and
    which repositories), the user's other policy statements, and its creation templates. The one
    structure render, verify and import all compare with."""

    account: str
    account_id: str
    region: str
    partition: str
    rules: tuple[Rule, ...] = ()
    grants: tuple[SourceGrant, ...] = ()  # sorted by account id
    extra_statements: tuple[Mapping[str, Any], ...] = ()
    creation_templates: tuple[CreationTemplate, ...] = ()
    grant_scope: GrantScope = "scoped"  # wide: every source gets `repository/*`
    create_repositories: bool = True  # False: the grant allows ecr:ReplicateImage only
    wide_fallback: bool = False  # wide because the scoped grants would not fit the policy

    @property
    def grant_sources(self) -> tuple[str, ...]:
        """The source account ids the registry policy lets replicate in, sorted."""
        return tuple(g.account_id for g in self.grants)

    @property
    def grant_actions(self) -> tuple[str, ...]:
        return GRANT_ACTIONS if self.create_repositories else REPLICATE_ONLY_ACTIONS

    @property
    def repository_arn(self) -> str:
        """The ARN of this registry's repositories, up to the name."""
        return f"arn:{self.partition}:ecr:{self.region}:{self.account_id}:repository/"

    def granted_prefixes(self, grant: SourceGrant) -> tuple[str, ...]:
        """What the policy grants a source: its prefixes, or every repository when wide."""
        return EVERY_REPOSITORY if self.grant_scope == "wide" else grant.prefixes

    @property
    def key(self) -> tuple[str, str]:
        """(account name, Region): the registry's identity and sort order."""
        return (self.account, self.region)

    @property
    def label(self) -> str:
        return f"{self.account}/{self.region}"

    def replication_configuration(self) -> dict[str, Any] | None:
        """PutReplicationConfiguration's shape; None where the registry only receives."""
        return replication_configuration(self.rules)

    def grant_groups(self) -> tuple[GrantStatement, ...]:
        """The grant packed: sources with the same prefixes share one statement. Statements are
        ordered by their prefixes (every repository first), each with a Sid of its own."""
        by_prefixes: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for grant in self.grants:
            by_prefixes[self.granted_prefixes(grant)].append(grant.account_id)
        keys = sorted(by_prefixes, key=lambda p: (p != EVERY_REPOSITORY, p))
        sids = {k: grant_sid(k) for k in keys}
        digits = _SID_DIGITS
        while len(set(sids.values())) < len(sids):  # a hash collision: longer hashes for all
            digits *= 2
            sids = {k: grant_sid(k, digits) for k in keys}
        return tuple(GrantStatement(sids[k], tuple(sorted(by_prefixes[k])), k) for k in keys)

    def grant_statements(self) -> list[dict[str, Any]]:
        """The replication grant as policy statements (none when nothing replicates in)."""
        return [
            {
                "Sid": group.sid,
                "Effect": "Allow",
                "Principal": {
                    "AWS": [f"arn:{self.partition}:iam::{i}:root" for i in group.account_ids]
                },
                "Action": list(self.grant_actions),
                "Resource": [f"{self.repository_arn}{p}*" for p in group.prefixes],
            }
            for group in self.grant_groups()
        ]

    @property
    def has_registry_policy(self) -> bool:
        """Whether `registry_policy()` is not None, without building it (every grant makes a
        statement): render asks this of every registry."""
        return bool(self.grants or self.extra_statements)

    def registry_policy(self) -> dict[str, Any] | None:
        """The whole registry policy (the grants, then the user's statements), or None."""
        statements = self.grant_statements() + [dict(s) for s in self.extra_statements]
        if not statements:
            return None
        return {"Version": POLICY_VERSION, "Statement": statements}

    def desired(self, settings: frozenset[str] | None = None) -> DesiredRegistry:
        """What tfgen makes true here, in the API's shapes (of `settings`, default all): what
        verify compares with the live registry."""
        return DesiredRegistry(
            self.account,
            self.account_id,
            self.region,
            self.partition,
            self.rules,
            self.registry_policy(),
            self.creation_templates,
            ALL_SETTINGS if settings is None else settings,
        )

    def to_json(self) -> dict[str, Any]:
        """`tfgen compile --json`'s object for this registry (docs/architecture.md)."""
        return self.desired().to_json()


# The settings of a registry tfgen manages. A rendered stack manages some of them: a
# registry-policy stack the registry policy and the creation templates (what lets the registry
# receive), a replication stack the replication configuration (what it sends).
REPLICATION_SETTING = "replication"
POLICY_SETTING = "registry policy"
TEMPLATES_SETTING = "creation templates"
ALL_SETTINGS = frozenset({REPLICATION_SETTING, POLICY_SETTING, TEMPLATES_SETTING})


@dataclass(frozen=True, slots=True)
class DesiredRegistry:
    """What tfgen makes true in one registry, in the ECR API's shapes: the replication rules, the
    whole registry policy document and the creation templates, of the `settings` it covers (one
    stack's part of a registry, or all of them). verify compares a live registry with this,
    whether it was compiled from a spec (`RegistryState.desired`) or read from a rendered stack
    (tfgen.desired), so both comparisons are one code."""

    account: str
    account_id: str
    region: str
    partition: str
    rules: tuple[Rule, ...] = ()
    policy: Mapping[str, Any] | None = None
    creation_templates: tuple[CreationTemplate, ...] = ()
    settings: frozenset[str] = ALL_SETTINGS

    @property
    def label(self) -> str:
        return f"{self.account}/{self.region}"

    def replication_configuration(self) -> dict[str, Any] | None:
        """PutReplicationConfiguration's shape; None where the registry only receives."""
        return replication_configuration(self.rules)

    def registry_policy(self) -> dict[str, Any] | None:
        return None if self.policy is None else dict(self.policy)

    def to_json(self) -> dict[str, Any]:
        """`tfgen compile --json`'s object for this registry, with the keys of its settings."""
        out: dict[str, Any] = {
            "account": self.account,
            "account_id": self.account_id,
            "region": self.region,
            "partition": self.partition,
        }
        if REPLICATION_SETTING in self.settings:
            out["replication_configuration"] = self.replication_configuration()
        if POLICY_SETTING in self.settings:
            out["registry_policy"] = self.registry_policy()
        if TEMPLATES_SETTING in self.settings:
            out["creation_templates"] = [t.to_api() for t in self.creation_templates]
        return out


@dataclass(frozen=True, slots=True)
class AccountState:
    """An account of the spec: its name there, id, partition, and the role tfgen's Terraform
    assumes in it (None: the ambient credentials)."""

    name: str
    account_id: str
    partition: str
    role_arn: str | None


@dataclass(frozen=True, slots=True)
class S3BackendState:
    """The S3 backend every stack's state goes to (`defaults.backend.s3`)."""

    bucket: str
    region: str
    key: str  # a template with {account}, {account_id} and {stack}
    use_lockfile: bool
    encrypt: bool
    dynamodb_table: str | None
    role_arn: str | None


@dataclass(frozen=True, slots=True)
class Settings:
    """What every rendered stack shares: version constraints and the backend."""

    required_version: str
    aws_provider_version: str
    backend: S3BackendState | None


@dataclass(frozen=True, slots=True)
class DesiredState:
    """The compiled desired state of a spec: every managed registry, sorted by (account, Region),
    the accounts, the shared settings, and the spec's warnings."""

    registries: tuple[RegistryState, ...]  # sorted by (account, region)
    accounts: Mapping[str, AccountState]
    settings: Settings
    warnings: tuple[Any, ...] = field(default=())  # spec Issues of severity warning

    def to_json(self) -> list[dict[str, Any]]:
        """`tfgen compile --json`: one object per registry."""
        return [r.to_json() for r in self.registries]


def compact_json(value: Any) -> str:
    """Compact JSON with keys sorted: the canonical text tfgen compares and hashes."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


# Go's encoding/json (the provider normalises every policy with it) and Terraform's jsonencode
# escape these; other non-ASCII characters stay UTF-8.
_GO_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def sent_json(value: Any) -> str:
    """The JSON text the AWS provider sends for a policy document: compact, keys sorted, and
    `<`, `>`, `&`, U+2028 and U+2029 escaped as Go's encoding/json writes them. The API's length
    limits apply to this text, counted in characters."""
    return compact_json(_go_numbers(value)).translate(_GO_ESCAPES)


def _go_numbers(value: Any) -> Any:
    """Floats that hold an integer as Go writes them (14.0 → 14)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, dict):
        return {k: _go_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_go_numbers(v) for v in value]
    return value
