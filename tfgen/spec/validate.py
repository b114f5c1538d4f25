"""tfgen.yaml → a validated Spec (or a SpecError listing every problem): step 1 of the pipeline,
whose names tfgen.spec exports."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from tfgen.constants import DEFAULT_SPEC
from tfgen.gcpause import cycle_collection_paused
from tfgen.spec.checks import check_spec
from tfgen.spec.document import Document, Positions
from tfgen.spec.issues import Issue, Severity, SpecError
from tfgen.spec.lockfile import lock_for, uses_organizations
from tfgen.spec.model import Spec, pydantic_issues
from tfgen.spec.partial import checked_past_shape_errors
from tfgen.spec.targets import expand_targets


@dataclass(frozen=True, slots=True)
class LoadedSpec:
    """A validated spec, where each of its paths was in the file, and its warnings."""

    spec: Spec
    positions: Positions
    warnings: tuple[Issue, ...]

    @property
    def file(self) -> str:
        return self.positions.file


def validate_document(document: Document) -> LoadedSpec:
    positions = document.positions
    if document.data is None:
        raise SpecError([positions.issue(Issue((), "the spec is empty; start with 'version: 1'"))])
    version = document.data.get("version") if isinstance(document.data, dict) else None
    if version is not None and (type(version) is not int or version != 1):
        if isinstance(version, int | float) and not isinstance(version, bool):
            message = f"spec version {version} is not supported by this tfgen; it reads version 1"
        else:
            kind = "a string" if isinstance(version, str) else f"a {type(version).__name__}"
            message = f"version must be the number 1, not {kind} ({version!r}); write 'version: 1'"
        raise SpecError([positions.issue(Issue(("version",), message))])
    try:
        spec = Spec.model_validate(document.data)
    except ValidationError as exc:
        shape = pydantic_issues(exc.errors())
        # The cross-field checks too, on what parsed, so every mistake is reported in one run.
        more = checked_past_shape_errors(document.data, exc.errors(), _plain_checks)
        raise SpecError(list(dict.fromkeys(positions.issue(i) for i in (*shape, *more)))) from None
    # Organizations targets become plain accounts (from tfgen.lock.json) before the checks.
    spec, positions, expansion = expand_targets(spec, lock_for(spec, positions.file), positions)
    issues = list(dict.fromkeys(positions.issue(i) for i in (*expansion, *check_spec(spec))))
    if any(i.severity is Severity.ERROR for i in issues):
        raise SpecError(issues)
    return LoadedSpec(spec, positions, tuple(issues))


def _plain_checks(spec: Spec) -> list[Issue]:
    """The cross-field checks of a spec that did not parse whole; a spec with Organizations
    targets needs its lock and expansion first, so it gets its shape errors only."""
    return [] if uses_organizations(spec) else check_spec(spec)


def load_spec_text(text: str, file: str = DEFAULT_SPEC) -> LoadedSpec:
    """Like tfgen.spec.load_spec, for spec text; `file` names it in messages."""
    with cycle_collection_paused():
        from tfgen.spec.load import load_text  # PyYAML: only where text is read here

        return validate_document(load_text(text, file))


__all__ = ["LoadedSpec", "load_spec_text", "validate_document"]
