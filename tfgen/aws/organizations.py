"""Resolve Organizations targets into their active accounts through the Organizations API.

An organizational unit includes the accounts of all its child OUs, at any depth: "this OU" in an
organisation means everything under it, as with SCPs and service-managed StackSets. Only ACTIVE
accounts count; suspended, closing or closed accounts cannot pull or receive images.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from tfgen.aws.errors import AwsError, error_code, explain
from tfgen.spec.lockfile import ORGANIZATION

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient


@dataclass(frozen=True, slots=True)
class OrgAccount:
    """An ACTIVE account of AWS Organizations."""

    id: str
    name: str
    partition: str


def organization_id(client: OrganizationsClient) -> str:
    try:
        return client.describe_organization()["Organization"]["Id"]
    except (BotoCoreError, ClientError) as exc:
        if error_code(exc) == "AWSOrganizationsNotInUseException":
            raise AwsError(
                "the credentials' account is not in an AWS Organization; run 'tfgen lock' with "
                "credentials of the management account or a delegated administrator"
            ) from None
        raise explain(exc, "reading the organization") from None


def resolve(client: OrganizationsClient, key: str) -> tuple[OrgAccount, ...]:
    """The active accounts of a target (`organization` or an OU id), sorted by id."""
    try:
        found = _organization(client) if key == ORGANIZATION else _unit(client, key)
    except (BotoCoreError, ClientError) as exc:
        if error_code(exc) in ("ParentNotFoundException", "OrganizationalUnitNotFoundException"):
            raise AwsError(
                f"organizational unit {key} does not exist in this organization; check the "
                "id (AWS Organizations console, or 'aws organizations list-roots' and "
                "'list-organizational-units-for-parent')"
            ) from None
        raise explain(exc, f"listing the accounts of {key}") from None
    return tuple(sorted((a for a in found if a is not None), key=lambda a: a.id))


def _active(account: Any) -> OrgAccount | None:
    # Newer responses carry `State` (`Status` is deprecated); read it when present.
    state = account.get("State") or account.get("Status")
    if state != "ACTIVE":
        return None
    partition = str(account.get("Arn", "arn:aws:")).split(":")[1] or "aws"
    return OrgAccount(account["Id"], account.get("Name", ""), partition)


def _organization(client: OrganizationsClient) -> list[OrgAccount | None]:
    pages = client.get_paginator("list_accounts").paginate()
    return [_active(a) for page in pages for a in page["Accounts"]]


def _unit(client: OrganizationsClient, ou: str) -> list[OrgAccount | None]:
    found: list[OrgAccount | None] = []
    pending = [ou]
    while pending:
        parent = pending.pop()
        accounts = client.get_paginator("list_accounts_for_parent").paginate(ParentId=parent)
        found.extend(_active(a) for page in accounts for a in page["Accounts"])
        units = client.get_paginator("list_organizational_units_for_parent")
        pending.extend(
            u["Id"] for page in units.paginate(ParentId=parent) for u in page["OrganizationalUnits"]
        )
    return found


__all__ = ["OrgAccount", "organization_id", "resolve"]
