"""`defaults.terraform.aws_provider_version` against the provider features the spec uses: the
constraint must parse as Terraform's, and admit some hashicorp/aws version that has every feature
(tfgen/features.py). Each stack then renders the constraint narrowed to its own features."""

from __future__ import annotations

import re

from tfgen import features, limits
from tfgen.features import Feature
from tfgen.spec import regions
from tfgen.spec.issues import Issue, SpecPath, format_path
from tfgen.spec.model import Spec
from tfgen.versions import ConstraintError, admits_at_least, parse

CONSTRAINT_PATH: SpecPath = ("defaults", "terraform", "aws_provider_version")
_PROVIDER_REGION = re.compile(limits.PROVIDER_REGION_PATTERN)


def used_features(spec: Spec) -> list[tuple[Feature, SpecPath]]:
    """Each feature the spec renders, with the first place that uses it."""
    out: dict[Feature, SpecPath] = {}
    if spec.replication:
        out.setdefault(features.REPLICATION, ("replication", 0))
    cross_account = any(t.account != e.from_.account for e in spec.replication for t in e.to)
    if cross_account:
        out.setdefault(features.REGISTRY_POLICY, ("replication", 0))
    for name in spec.registry_policies:
        out.setdefault(features.REGISTRY_POLICY, ("registry_policies", name))
    for i, t in enumerate(spec.creation_templates):
        used = features.template_features(
            t.applied_for, t.image_tag_mutability, len(t.image_tag_mutability_exclusion_filters)
        )
        for feature in used:
            out.setdefault(feature, ("creation_templates", i, _field(feature)))
    return list(out.items())


def _field(feature: Feature) -> str:
    return {
        features.MUTABILITY_WITH_EXCLUSION: "image_tag_mutability",
        features.EXCLUSION_FILTERS: "image_tag_mutability_exclusion_filters",
        features.CREATE_ON_PUSH: "applied_for",
    }.get(feature, "prefix")


def provider_issues(spec: Spec) -> list[Issue]:
    return _region_issues(spec) + _constraint_issues(spec)


def _region_issues(spec: Spec) -> list[Issue]:
    """A destination Region the provider's Region check refuses (it is stricter than the API's);
    Regions unknown to ECR are reported by the Region check itself."""
    return [
        Issue(
            ("replication", i, "to", j, "regions", k),
            f"the Terraform AWS provider refuses {region!r} as a replication destination (its "
            f"Region pattern {limits.PROVIDER_REGION_PATTERN} is stricter than the ECR API's), "
            "so the plan would fail; tfgen cannot render this destination",
        )
        for i, entry in enumerate(spec.replication)
        for j, target in enumerate(entry.to)
        for k, region in enumerate(target.regions)
        if regions.partition_of(region) is not None and not _PROVIDER_REGION.fullmatch(region)
    ]


def _constraint_issues(spec: Spec) -> list[Issue]:
    text = spec.defaults.terraform.aws_provider_version
    try:
        clauses = parse(text)
    except ConstraintError as exc:
        return [Issue(CONSTRAINT_PATH, f"{text!r}: {exc}")]
    return [
        Issue(
            CONSTRAINT_PATH,
            f"{text!r} admits no hashicorp/aws version with {feature.what}, which "
            f"{format_path(path)} uses: it needs provider >= {feature.version} ({feature.source}). "
            f"Allow >= {feature.version}, e.g. '>= {feature.version}, < 7.0'",
        )
        for feature, path in used_features(spec)
        if not admits_at_least(clauses, feature.minimum)
    ]


__all__ = ["CONSTRAINT_PATH", "provider_issues", "used_features"]
