"""Every AWS limit tfgen enforces, as data with its source (see docs/spec.md#limits).

Where the ECR API and the Terraform AWS provider disagree, the stricter side binds (tfgen renders
Terraform) and `side` names it; `api` then keeps the API's own figure. `model` names the botocore
shape and bound the API figure is read from, so a test can notice when botocore's model moves.
"""

from __future__ import annotations

from dataclasses import dataclass

API = "the ECR API"
PROVIDER = "the Terraform AWS provider"


@dataclass(frozen=True, slots=True)
class Limit:
    value: int  # what tfgen enforces
    what: str
    source: str
    unit: str = ""  # short plural noun for messages ("rules")
    side: str = API  # who imposes `value`
    api: int | None = None  # the API's figure, when the provider is stricter
    model: tuple[str, str] | None = None  # (botocore shape, "min" | "max") of the API figure

    @property
    def api_value(self) -> int:
        return self.value if self.api is None else self.api

    def why(self, bound: str = "at most") -> str:
        """'the Terraform AWS provider allows at most 10 rules (the ECR API allows 25)'."""
        text = f"{self.side} allows {bound} {self.value} {self.unit or self.what}"
        if self.api is not None and self.api != self.value:
            text += f" ({API} allows {self.api})"
        return text


RULES_PER_REGISTRY = Limit(
    10,
    "replication rules in one registry's configuration",
    "Terraform AWS provider aws_ecr_replication_configuration `rule` MaxItems 10 (5.100.0 and its "
    "current source); ECR API ReplicationRuleList max 25 (botocore 1.44)",
    unit="rules",
    side=PROVIDER,
    api=25,
    model=("ReplicationRuleList", "max"),
)
UNIQUE_DESTINATIONS_PER_REGISTRY = Limit(
    25,
    "unique destinations (Region, registry) across all rules of one registry",
    "ECR User Guide 'Private image replication': up to 25 unique destinations across all rules",
    unit="unique destinations",
)
DESTINATIONS_PER_RULE = Limit(
    25,
    "destinations in one rule",
    "Terraform AWS provider aws_ecr_replication_configuration `destination` MaxItems 25; "
    "ECR API ReplicationDestinationList max 100 (botocore 1.34.140+)",
    unit="destinations per rule",
    side=PROVIDER,
    api=100,
    model=("ReplicationDestinationList", "max"),
)
FILTERS_PER_RULE = Limit(
    100,
    "repository filters in one rule",
    "ECR API RepositoryFilterList max 100 (the provider's `repository_filter` MaxItems is 100 too)",
    unit="filters",
    model=("RepositoryFilterList", "max"),
)
FILTER_MIN_LENGTH = Limit(
    2,
    "characters in a filter (minimum)",
    "ECR API RepositoryFilterValue min 2",
    model=("RepositoryFilterValue", "min"),
)
FILTER_MAX_LENGTH = Limit(
    256,
    "characters in a filter",
    "ECR API RepositoryFilterValue max 256",
    model=("RepositoryFilterValue", "max"),
)
REGISTRY_POLICY_MAX_LENGTH = Limit(
    10240,
    "characters in a registry policy",
    "ECR API RegistryPolicyText max 10240, counted on the JSON the provider sends",
    model=("RegistryPolicyText", "max"),
)
LIFECYCLE_POLICY_MAX_LENGTH = Limit(
    30720,
    "characters in a creation template's lifecycle policy",
    "ECR API LifecyclePolicyTextForRepositoryCreationTemplate max 30720",
    model=("LifecyclePolicyTextForRepositoryCreationTemplate", "max"),
)
REPOSITORY_POLICY_MAX_LENGTH = Limit(
    10240,
    "characters in a creation template's repository policy",
    "ECR API RepositoryPolicyText max 10240",
    model=("RepositoryPolicyText", "max"),
)
TEMPLATE_DESCRIPTION_MAX_LENGTH = Limit(
    255,
    "characters in a creation template's description",
    "Terraform AWS provider aws_ecr_repository_creation_template `description` "
    "StringLenBetween(0, 255); ECR API RepositoryTemplateDescription max 256",
    unit="characters",
    side=PROVIDER,
    api=256,
    model=("RepositoryTemplateDescription", "max"),
)
PREFIX_MIN_LENGTH = Limit(
    2,
    "characters in a creation template prefix (minimum)",
    "Terraform AWS provider aws_ecr_repository_creation_template `prefix` StringLenBetween(2, 256); "
    "ECR API Prefix min 1",
    unit="characters",
    side=PROVIDER,
    api=1,
    model=("Prefix", "min"),
)
PREFIX_MAX_LENGTH = Limit(
    256,
    "characters in a creation template prefix",
    "ECR API Prefix max 256",
    model=("Prefix", "max"),
)
EXCLUSION_FILTERS_MIN = Limit(
    1,
    "tag-mutability exclusion filters in a template (minimum, with a *_WITH_EXCLUSION mutability)",
    "ECR API ImageTagMutabilityExclusionFilters min 1",
    unit="filters",
    model=("ImageTagMutabilityExclusionFilters", "min"),
)
EXCLUSION_FILTERS_MAX = Limit(
    5,
    "tag-mutability exclusion filters in a template",
    "ECR API ImageTagMutabilityExclusionFilters max 5 (the provider's block MaxItems is 5 too)",
    unit="filters",
    model=("ImageTagMutabilityExclusionFilters", "max"),
)
EXCLUSION_FILTER_MAX_LENGTH = Limit(
    128,
    "characters in a tag-mutability exclusion filter",
    "ECR API ImageTagMutabilityExclusionFilterValue 1..128 (the provider's `filter` too)",
    model=("ImageTagMutabilityExclusionFilterValue", "max"),
)
EXCLUSION_FILTER_WILDCARDS = Limit(
    2,
    "'*' wildcards in a tag-mutability exclusion filter",
    "Terraform AWS provider `image_tag_mutability_exclusion_filter.filter` validation "
    "(at most 2 wildcards); the API's pattern allows any number",
    unit="'*' wildcards",
    side=PROVIDER,
)
TAG_KEY_MAX_LENGTH = Limit(
    128,
    "characters in a tag key",
    "ECR API Tag documentation: tag keys at most 128 characters",
    unit="characters",
)
TAG_VALUE_MAX_LENGTH = Limit(
    256,
    "characters in a tag value",
    "ECR API Tag documentation: tag values at most 256 characters",
    unit="characters",
)
TAGS_PER_TEMPLATE = Limit(
    50,
    "resource tags of a creation template",
    "AWS tagging limit: at most 50 tags per resource (ECR User Guide 'Tagging')",
    unit="tags",
)
ROLE_ARN_MAX_LENGTH = Limit(
    2048,
    "characters in a creation template's custom_role_arn",
    "ECR API CustomRoleArn max 2048",
    model=("CustomRoleArn", "max"),
)
KMS_KEY_MAX_LENGTH = Limit(
    2048,
    "characters in a creation template's KMS key",
    "ECR API KmsKeyForRepositoryCreationTemplate max 2048",
    model=("KmsKeyForRepositoryCreationTemplate", "max"),
)

# Patterns, verbatim from botocore's ECR model (service-2.json) unless noted.
FILTER_PATTERN = r"^(?:[a-z0-9]+(?:[._-][a-z0-9]*)*/)*[a-z0-9]*(?:[._-][a-z0-9]*)*$"
TEMPLATE_PREFIX_PATTERN = (
    r"^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*\/?|ROOT)$"
)
ACCOUNT_ID_PATTERN = r"^[0-9]{12}$"
# tfgen's own: an account's name in the spec names directories and state keys.
ACCOUNT_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
# IAM identifiers (IAM User Guide): ASCII letters, digits and +=,.@_-; path (1-512 characters)
# and name (1-64) together at most 576.
ROLE_ARN_PATTERN = r"arn:(aws[a-z-]*):iam::([0-9]{12}):role/[A-Za-z0-9+=,.@_/-]{1,576}"
KMS_KEY_PATTERN = r"^arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[a-z0-9-]+$"
EXCLUSION_FILTER_PATTERN = r"^[0-9a-zA-Z._*-]{1,128}$"
EXCLUSION_FILTER_TYPES = ("WILDCARD",)  # ECR API ImageTagMutabilityExclusionFilterType
# The provider's Region check (internal/verify regionRegexp; 5.100.0 rejects 'eusc-de-east-1' as a
# replication destination with "doesn't look like AWS Region"). Stricter than the API's [0-9a-z-]{2,25}.
PROVIDER_REGION_PATTERN = r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$"
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
    PREFIX_MIN_LENGTH,
    PREFIX_MAX_LENGTH,
    EXCLUSION_FILTERS_MIN,
    EXCLUSION_FILTERS_MAX,
    EXCLUSION_FILTER_MAX_LENGTH,
    EXCLUSION_FILTER_WILDCARDS,
    TAG_KEY_MAX_LENGTH,
    TAG_VALUE_MAX_LENGTH,
    TAGS_PER_TEMPLATE,
    ROLE_ARN_MAX_LENGTH,
    KMS_KEY_MAX_LENGTH,
)
