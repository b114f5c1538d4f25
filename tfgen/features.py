"""Every hashicorp/aws feature tfgen renders, as data: the provider version that first has it, and
where that comes from. A stack's `required_providers` constraint admits only versions with all of
its features (see tfgen/versions.py); a user constraint that excludes them is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tfgen.versions import Version, format_version

_CHANGELOG = "terraform-provider-aws CHANGELOG"


@dataclass(frozen=True, slots=True)
class Feature:
    what: str
    minimum: Version
    source: str

    @property
    def version(self) -> str:
        return format_version(self.minimum)


REGISTRY_POLICY = Feature(
    "aws_ecr_registry_policy",
    (3, 36, 0),
    f"{_CHANGELOG} 3.36.0: New Resource aws_ecr_registry_policy (#16831)",
)
REPLICATION = Feature(
    "aws_ecr_replication_configuration with repository_filter and 10 rules",
    (3, 71, 0),
    f"{_CHANGELOG} 3.71.0: repository_filter (#21231), rule MaxItems 10 (#22281)",
)
CREATION_TEMPLATE = Feature(
    "aws_ecr_repository_creation_template",
    (5, 61, 0),
    f"{_CHANGELOG} 5.61.0: New Resource aws_ecr_repository_creation_template (#38597)",
)
MUTABILITY_WITH_EXCLUSION = Feature(
    "image_tag_mutability IMMUTABLE_WITH_EXCLUSION / MUTABLE_WITH_EXCLUSION",
    (6, 8, 0),
    f"{_CHANGELOG} 6.8.0 (#43642): the values join the SDK enum the template validates against",
)
EXCLUSION_FILTERS = Feature(
    "the creation template's image_tag_mutability_exclusion_filter block",
    (6, 10, 0),
    f"{_CHANGELOG} 6.10.0: resource/aws_ecr_repository_creation_template adds "
    "image_tag_mutability_exclusion_filter (#43886)",
)
CREATE_ON_PUSH = Feature(
    "applied_for CREATE_ON_PUSH",
    (6, 28, 0),
    "terraform-provider-aws 6.28.0: aws-sdk-go-v2 service/ecr v1.55.0 adds the RCTAppliedFor value "
    "(#45660; docs and tests #45720); 5.100.0 rejects it at plan",
)
ALL = (
    REGISTRY_POLICY,
    REPLICATION,
    CREATION_TEMPLATE,
    MUTABILITY_WITH_EXCLUSION,
    EXCLUSION_FILTERS,
    CREATE_ON_PUSH,
)


def template_features(
    applied_for: Iterable[str], image_tag_mutability: str, exclusion_filters: int
) -> tuple[Feature, ...]:
    """What one creation template needs beyond the resource itself."""
    out = [CREATION_TEMPLATE]
    if image_tag_mutability.endswith("_WITH_EXCLUSION"):
        out.append(MUTABILITY_WITH_EXCLUSION)
    if exclusion_filters:
        out.append(EXCLUSION_FILTERS)
    if "CREATE_ON_PUSH" in applied_for:
        out.append(CREATE_ON_PUSH)
    return tuple(out)


def newest(features: Iterable[Feature]) -> Feature | None:
    """The feature with the highest minimum version (the one that decides the constraint)."""
    return max(features, key=lambda f: f.minimum, default=None)


__all__ = [
    "ALL",
    "CREATE_ON_PUSH",
    "CREATION_TEMPLATE",
    "EXCLUSION_FILTERS",
    "MUTABILITY_WITH_EXCLUSION",
    "REGISTRY_POLICY",
    "REPLICATION",
    "Feature",
    "newest",
    "template_features",
]
