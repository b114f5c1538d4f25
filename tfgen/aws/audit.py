"""Images that never reached a destination: for each source repository a rule matches, the images
(by digest) that each of that rule's destination registries lacks.

ECR replicates only images pushed after a rule exists; nothing copies what was there before (ECR
User Guide, "Private image replication"; containers-roadmap #1289, #1252). Such images must be
pushed again to the source to be replicated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from tfgen.aws.errors import error_code, explain
from tfgen.aws.parallel import Reads, run_all
from tfgen.aws.sessions import Sessions
from tfgen.errors import TfgenError
from tfgen.state import DesiredState, Destination, RegistryState

if TYPE_CHECKING:
    from mypy_boto3_ecr import ECRClient

NOTICE = (
    "ECR replicates only images pushed after a replication rule exists: images pushed before "
    "the rule (or before its destination was added) are never copied, and ECR has no way to "
    "replicate them later. To fill a gap, push the image to the source again now that the rule "
    "exists (for example under a new tag): ECR replicates on push only."
)


@dataclass(frozen=True, slots=True)
class Image:
    """An image of a source repository, by digest."""

    digest: str
    tags: tuple[str, ...]
    pushed_at: str | None

    def to_json(self) -> dict[str, Any]:
        return {"digest": self.digest, "tags": list(self.tags), "pushed_at": self.pushed_at}


@dataclass(frozen=True, slots=True)
class Gap:
    """Images of one source repository that one destination registry lacks."""

    source: str  # "account/region"
    source_account_id: str
    repository: str
    destination: str  # "account/region"
    destination_account_id: str
    repository_missing: bool  # the destination has no repository of that name at all
    images: int  # images in the source repository
    missing: tuple[Image, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "source_account_id": self.source_account_id,
            "repository": self.repository,
            "destination": self.destination,
            "destination_account_id": self.destination_account_id,
            "repository_missing": self.repository_missing,
            "images": self.images,
            "missing": [i.to_json() for i in self.missing],
        }


@dataclass(frozen=True, slots=True)
class Report:
    """What `tfgen audit` found: the gaps, and the reads that failed."""

    repositories: int  # source repositories checked
    gaps: tuple[Gap, ...]
    errors: tuple[str, ...]

    def push_again(self) -> tuple[tuple[str, str, Image], ...]:
        """(source, repository, image) to push again: each once, whatever its missing destinations."""
        seen: dict[tuple[str, str, str], Image] = {}
        for gap in self.gaps:
            for image in gap.missing:
                seen.setdefault((gap.source, gap.repository, image.digest), image)
        return tuple((s, r, i) for (s, r, _), i in seen.items())


@dataclass(frozen=True, slots=True)
class _Task:
    registry: RegistryState
    repository: str
    destinations: tuple[Destination, ...]


def matching_destinations(registry: RegistryState, repository: str) -> tuple[Destination, ...]:
    """Destinations of every rule whose filters match the repository (no filter matches all)."""
    out: list[Destination] = []
    for rule in registry.rules:
        if not rule.filters or any(repository.startswith(f) for f in rule.filters):
            out.extend(d for d in rule.destinations if d not in out)
    return tuple(out)


def audit(state: DesiredState, sessions: Sessions, prefix: str | None, reads: Reads) -> Report:
    sources = [r for r in state.registries if r.rules]
    listed = run_all(lambda r: _repositories(sessions, r), sources, reads, "source registries")
    tasks: list[_Task] = []
    errors: list[str] = []
    for registry, names in zip(sources, listed, strict=True):
        if isinstance(names, TfgenError):
            errors.append(str(names))
            continue
        for name in names:
            if prefix is not None and not name.startswith(prefix):
                continue
            destinations = matching_destinations(registry, name)
            if destinations:
                tasks.append(_Task(registry, name, destinations))
    gaps: list[Gap] = []
    for result in run_all(lambda t: _gaps(sessions, t), tasks, reads, "repositories"):
        if isinstance(result, TfgenError):
            errors.append(str(result))
        else:
            gaps.extend(result)
    return Report(len(tasks), tuple(gaps), tuple(errors))


def _repositories(sessions: Sessions, registry: RegistryState) -> list[str]:
    client = sessions.ecr(registry.account, registry.region)
    doing = f"listing the repositories of {registry.label} ({registry.account_id})"
    try:
        names: list[str] = []
        for page in client.get_paginator("describe_repositories").paginate():
            names.extend(r["repositoryName"] for r in page["repositories"])
    except (BotoCoreError, ClientError) as exc:
        raise explain(exc, doing) from None
    return sorted(names)


def _images(client: ECRClient, repository: str, registry_id: str) -> Iterator[Image]:
    pages = client.get_paginator("describe_images").paginate(
        repositoryName=repository, registryId=registry_id
    )
    for page in pages:
        for detail in page["imageDetails"]:
            pushed = detail.get("imagePushedAt")
            yield Image(
                detail["imageDigest"],
                tuple(sorted(detail.get("imageTags", []))),
                pushed.isoformat() if pushed is not None else None,
            )


def _gaps(sessions: Sessions, task: _Task) -> list[Gap]:
    src = task.registry
    doing = f"listing the images of {task.repository} in {src.label} ({src.account_id})"
    try:
        images = sorted(
            _images(sessions.ecr(src.account, src.region), task.repository, src.account_id),
            key=lambda i: (i.pushed_at or "", i.digest),
        )
    except (BotoCoreError, ClientError) as exc:
        raise explain(exc, doing) from None
    gaps = []
    for dest in task.destinations:
        name = sessions.name_of(dest.registry_id)
        if name is None:  # compile only makes destinations of the spec's accounts
            raise TfgenError(f"destination account {dest.registry_id} is not in the spec")
        present, repository_missing = _present(sessions, name, dest, task.repository)
        missing = tuple(i for i in images if i.digest not in present)
        if missing:
            gaps.append(
                Gap(
                    src.label,
                    src.account_id,
                    task.repository,
                    f"{name}/{dest.region}",
                    dest.registry_id,
                    repository_missing,
                    len(images),
                    missing,
                )
            )
    return gaps


def _present(
    sessions: Sessions, account: str, dest: Destination, repository: str
) -> tuple[set[str], bool]:
    """Digests in the destination's repository, and whether that repository is missing."""
    doing = f"listing the images of {repository} in {account}/{dest.region} ({dest.registry_id})"
    try:
        client = sessions.ecr(account, dest.region)
        return {i.digest for i in _images(client, repository, dest.registry_id)}, False
    except ClientError as exc:
        if error_code(exc) == "RepositoryNotFoundException":
            return set(), True
        raise explain(exc, doing) from None
    except BotoCoreError as exc:
        raise explain(exc, doing) from None


__all__ = ["NOTICE", "Gap", "Image", "Report", "audit", "matching_destinations"]
