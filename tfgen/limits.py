"""Every AWS limit tfgen enforces, as data with its source (see docs/spec.md#limits)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limit:
    value: int
    what: str
    source: str


RULES_PER_REGISTRY = Limit(
    10,
    "replication rules in one registry's configuration",
    "ECR API ReplicationRuleList max 10 (botocore 1.21.45+); ECR User Guide 'Private image replication'",
)
UNIQUE_DESTINATIONS_PER_REGISTRY = Limit(
    25,
    "unique destinations (Region, registry) across all rules of one registry",
    "ECR User Guide 'Private image replication': up to 25 unique destinations across all rules",
)
DESTINATIONS_PER_RULE = Limit(
    25,
    "destinations in one rule",
    "Terraform AWS provider aws_ecr_replication_configuration destination MaxItems 25",
)
FILTERS_PER_RULE = Limit(
    100,
    "repository filters in one rule",
    "ECR API RepositoryFilterList max 100; ECR User Guide",
)
FILTER_MIN_LENGTH = Limit(
    2, "characters in a filter (minimum)", "ECR API RepositoryFilterValue min 2"
)
FILTER_MAX_LENGTH = Limit(256, "characters in a filter", "ECR API RepositoryFilterValue max 256")
REGISTRY_POLICY_MAX_LENGTH = Limit(
    10240, "characters in a registry policy", "ECR API RegistryPolicyText max 10240"
)
LIFECYCLE_POLICY_MAX_LENGTH = Limit(
    30720,
    "characters in a creation template's lifecycle policy",
    "ECR API LifecyclePolicyTextForRepositoryCreationTemplate max 30720",
)
REPOSITORY_POLICY_MAX_LENGTH = Limit(
    10240,
    "characters in a creation template's repository policy",
    "ECR API RepositoryPolicyText max 10240",
)
TEMPLATE_DESCRIPTION_MAX_LENGTH = Limit(
    256,
    "characters in a creation template's description",
    "ECR API RepositoryTemplateDescription max 256",
)
PREFIX_MAX_LENGTH = Limit(256, "characters in a creation template prefix", "ECR API Prefix max 256")

# Patterns, verbatim from botocore's ECR model (service-2.json) unless noted.
FILTER_PATTERN = r"^(?:[a-z0-9]+(?:[._-][a-z0-9]*)*/)*[a-z0-9]*(?:[._-][a-z0-9]*)*$"
TEMPLATE_PREFIX_PATTERN = (
    r"^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*\/?|ROOT)$"
)
ACCOUNT_ID_PATTERN = r"^[0-9]{12}$"
KMS_KEY_PATTERN = r"^arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[a-z0-9-]+$"
ALL = (
    RULES_PER_REGISTRY,
    UNIQUE_DESTINATIONS_PER_REGISTRY,
    DESTINATIONS_PER_RULE,
    FILTERS_PER_RULE,
    FILTER_MIN_LENGTH,
    FILTER_MAX_LENGTH,
    REGISTRY_POLICY_MAX_LENGTH,
    LIFECYCLE_POLICY_MAX_LENGTH,
    REPOSITORY_POLICY_MAX_LENGTH,
    TEMPLATE_DESCRIPTION_MAX_LENGTH,
    PREFIX_MAX_LENGTH,
)
