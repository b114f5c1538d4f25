"""Read one registry's live settings: replication configuration, registry policy, creation templates."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from tfgen.aws.errors import AwsError, error_code, explain, is_unsupported
from tfgen.aws.sessions import Sessions

if TYPE_CHECKING:
    from mypy_boto3_ecr import ECRClient

TEMPLATES_UNSUPPORTED = (
    "creation templates not checked: the endpoint does not implement "
    "DescribeRepositoryCreationTemplates"
)


@dataclass(frozen=True, slots=True)
class LiveRegistry:
    """One registry's live settings, in the ECR API's shapes."""

    account: str
    account_id: str
    region: str
    replication_configuration: dict[str, Any] | None  # None when there are no rules
    registry_policy: dict[str, Any] | None
    creation_templates: tuple[dict[str, Any], ...] | None  # None: not read, or not supported
    templates_note: str | None = None

    @property
    def label(self) -> str:
        return f"{self.account}/{self.region}"

    def is_empty(self) -> bool:
        return (
            self.replication_configuration is None
            and self.registry_policy is None
            and not self.creation_templates
        )


def read_registry(
    sessions: Sessions, account: str, region: str, *, templates: bool
) -> LiveRegistry:
    """The live settings of one registry; `templates=False` skips the creation templates."""
    who = sessions.identity(account)
    doing = f"reading the registry {account}/{region} of {who.describe()}"
    client = sessions.ecr(account, region)
    try:
        config = client.describe_registry().get("replicationConfiguration")
        policy = _registry_policy(client)
    except (BotoCoreError, ClientError) as exc:
        raise explain(exc, doing) from None
    rules = [dict(r) for r in config.get("rules", [])] if config else []
    found: tuple[dict[str, Any], ...] | None = None
    note: str | None = None
    if templates:
        try:
            # One retry only: an endpoint without the API answers 500, which is otherwise retried.
            found = _templates(sessions.ecr(account, region, attempts=2))
        except (BotoCoreError, ClientError) as exc:
            if not is_unsupported(exc):
                raise explain(exc, f"{doing} (creation templates)") from None
            note = TEMPLATES_UNSUPPORTED
    return LiveRegistry(
        account,
        who.account_id,
        region,
        {"rules": rules} if rules else None,
        policy,
        found,
        note,
    )


def _registry_policy(client: ECRClient) -> dict[str, Any] | None:
    try:
        text = client.get_registry_policy()["policyText"]
    except ClientError as exc:
        if error_code(exc) == "RegistryPolicyNotFoundException":
            return None
        raise
    try:
        policy = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AwsError(f"the registry policy is not JSON ({exc.msg})") from None
    return policy if isinstance(policy, dict) else None


def _templates(client: ECRClient) -> tuple[dict[str, Any], ...]:
    found: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = (
            client.describe_repository_creation_templates(nextToken=token)
            if token
            else client.describe_repository_creation_templates()
        )
        # Timestamps are not settings (and not JSON): leave them out.
        found.extend(
            {k: v for k, v in t.items() if k not in ("createdAt", "updatedAt")}
            for t in page.get("repositoryCreationTemplates", [])
        )
        token = page.get("nextToken")
        if not token:
            return tuple(found)


__all__ = ["TEMPLATES_UNSUPPORTED", "LiveRegistry", "read_registry"]
