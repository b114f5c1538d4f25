"""What the test server adds to moto so the real AWS provider can run against it.

moto 5.2 lacks two things the provider calls (ecr-facts.md §6):
- more than one replication rule: moto still rejects it ("This feature is disabled"), a check from
  when AWS allowed one rule; AWS allows 10 since Sep 2021.
- the repository creation template API (Create/Describe/Update/DeleteRepositoryCreationTemplate):
  without it the provider retries until cancelled (an apply hung 3 min 20 s).

Both are added here, in the test server only, with the API's own validation (botocore's ECR model:
patterns, lengths, enums, required members, the template's errors), so a request the real API
would refuse is refused here too.

moto checks registry policies as a registry of scope V1 (only ecr:CreateRepository and
ecr:ReplicateImage); new registries have scope V2, where every ECR action may be granted (the ECR
User Guide, "Private registry permissions"). `validate_registry_policy_actions` checks as V2 does.

moto's STS lets anyone assume any role. `DENIED_ROLES` gives the tests IAM's answer for a role
whose trust policy does not admit the caller (AccessDenied), to fail a stack for real.

`install(patch)` applies all of it with a pytest MonkeyPatch.
"""

from __future__ import annotations

import json
import re
import warnings
from datetime import UTC, datetime
from typing import Any

import pytest
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.ecr.exceptions import InvalidParameterException
from moto.ecr.models import ECRBackend
from moto.ecr.responses import ECRResponse
from moto.iam.exceptions import MalformedPolicyDocument
from moto.sts.responses import TokenResponse

# botocore ECR model (service-2.json), shapes Prefix, RCTAppliedFor, ImageTagMutability, ...
_PREFIX = re.compile(
    r"([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*\/?|ROOT)"
)
_KMS_KEY = re.compile(r"|arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[a-z0-9-]+")
_EXCLUSION_FILTER = re.compile(r"[0-9a-zA-Z._*-]{1,128}")
_APPLIED_FOR = ("REPLICATION", "PULL_THROUGH_CACHE", "CREATE_ON_PUSH")
_MUTABILITY = ("MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION")
_ENCRYPTION = ("AES256", "KMS", "KMS_DSSE")
_SETTINGS = (
    "description",
    "encryptionConfiguration",
    "resourceTags",
    "imageTagMutability",
    "imageTagMutabilityExclusionFilters",
    "repositoryPolicy",
    "lifecyclePolicy",
    "appliedFor",
    "customRoleArn",
)


class ValidationException(ServiceException):
    code = "ValidationException"


class TemplateAlreadyExistsException(ServiceException):
    code = "TemplateAlreadyExistsException"


class TemplateNotFoundException(ServiceException):
    code = "TemplateNotFoundException"


def _constraint(member: str, value: Any, what: str) -> ValidationException:
    # The API's wording for a model constraint (as for every AWS JSON-protocol service).
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: {what}"
    )


def _check_length(member: str, value: str | None, low: int, high: int) -> None:
    if value is not None and not low <= len(value) <= high:
        raise _constraint(
            member, value, f"Member must have length between {low} and {high}, inclusive"
        )


def _check_enum(member: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise _constraint(
            member, value, f"Member must satisfy enum value set: [{', '.join(allowed)}]"
        )


def _check_json(member: str, text: str | None) -> None:
    if text is None or text == "":
        return
    try:
        json.loads(text)
    except ValueError:
        raise InvalidParameterException(
            f"Invalid parameter at '{member}' failed to satisfy constraint: 'Invalid JSON'"
        ) from None


def _validate(template: dict[str, Any], *, creating: bool) -> None:
    prefix = template.get("prefix")
    if prefix is None:
        raise _constraint("prefix", None, "Member must not be null")
    _check_length("prefix", prefix, 1, 256)
    if not _PREFIX.fullmatch(prefix):
        raise _constraint(
            "prefix", prefix, f"Member must satisfy regular expression pattern: {_PREFIX.pattern}"
        )
    applied = template.get("appliedFor")
    if creating and applied is None:
        raise _constraint("appliedFor", None, "Member must not be null")
    if applied is not None:
        if not applied:
            # Not a model constraint (the list has no min), but a template used for nothing is
            # refused by the service [inferred]; the provider requires one item too.
            raise InvalidParameterException("appliedFor must contain at least one value")
        for value in applied:
            _check_enum("appliedFor", value, _APPLIED_FOR)
    _check_length("description", template.get("description"), 0, 256)
    mutability = template.get("imageTagMutability")
    _check_enum("imageTagMutability", mutability, _MUTABILITY)
    filters = template.get("imageTagMutabilityExclusionFilters")
    if mutability is not None and mutability.endswith("_WITH_EXCLUSION") and not filters:
        # ecr-facts.md (December 2026): ECR rejects *_WITH_EXCLUSION without filters.
        raise InvalidParameterException(
            f"imageTagMutabilityExclusionFilters are required with {mutability}"
        )
    if filters:
        if not mutability or not mutability.endswith("_WITH_EXCLUSION"):
            raise InvalidParameterException(
                "imageTagMutabilityExclusionFilters are allowed only with *_WITH_EXCLUSION"
            )
        _check_length("imageTagMutabilityExclusionFilters", filters, 1, 5)  # type: ignore[arg-type]
        for f in filters:
            _check_enum("filterType", f.get("filterType"), ("WILDCARD",))
            if not _EXCLUSION_FILTER.fullmatch(f.get("filter") or ""):
                raise _constraint("filter", f.get("filter"), "Member must satisfy pattern")
    encryption = template.get("encryptionConfiguration")
    if encryption is not None:
        _check_enum("encryptionType", encryption.get("encryptionType"), _ENCRYPTION)
        key = encryption.get("kmsKey")
        if key is not None:
            _check_length("kmsKey", key, 0, 2048)
            if not _KMS_KEY.fullmatch(key):
                raise _constraint("kmsKey", key, "Member must satisfy regular expression pattern")
    _check_length("customRoleArn", template.get("customRoleArn"), 0, 2048)
    _check_length("lifecyclePolicy", template.get("lifecyclePolicy"), 0, 30720)
    _check_length("repositoryPolicy", template.get("repositoryPolicy"), 0, 10240)
    _check_json("lifecyclePolicy", template.get("lifecyclePolicy"))
    _check_json("repositoryPolicy", template.get("repositoryPolicy"))
    for tag in template.get("resourceTags") or ():
        if "Key" not in tag or "Value" not in tag:
            raise _constraint("resourceTags", tag, "Member must have Key and Value")


def _templates(backend: ECRBackend) -> dict[str, dict[str, Any]]:
    # Kept on the backend instance, so moto's reset (which re-initialises backends) clears it.
    store: dict[str, dict[str, Any]] = backend.__dict__.setdefault("_tfgen_templates", {})
    return store


def _params(response: ECRResponse) -> dict[str, Any]:
    return {k: response._get_param(k) for k in ("prefix", *_SETTINGS)}


def _result(response: ECRResponse, template: dict[str, Any]) -> ActionResult:
    return ActionResult(
        {"registryId": response.current_account, "repositoryCreationTemplate": template}
    )


def create_repository_creation_template(self: ECRResponse) -> ActionResult:
    params = {k: v for k, v in _params(self).items() if v is not None}
    _validate(params, creating=True)
    store = _templates(self.ecr_backend)
    if params["prefix"] in store:
        raise TemplateAlreadyExistsException(
            f"Repository creation template with prefix '{params['prefix']}' already exists "
            f"in the registry with id '{self.current_account}'"
        )
    now = datetime.now(UTC)
    template = {
        "imageTagMutability": "MUTABLE",
        "encryptionConfiguration": {"encryptionType": "AES256"},
        **params,
        "createdAt": now,
        "updatedAt": now,
    }
    store[params["prefix"]] = template
    return _result(self, template)


def update_repository_creation_template(self: ECRResponse) -> ActionResult:
    params = {k: v for k, v in _params(self).items() if v is not None}
    store = _templates(self.ecr_backend)
    current = store.get(params.get("prefix", ""))
    if current is None:
        raise TemplateNotFoundException(
            f"Repository creation template with prefix '{params.get('prefix')}' does not exist"
        )
    merged = {**current, **params, "updatedAt": datetime.now(UTC)}
    _validate(merged, creating=False)
    store[merged["prefix"]] = merged
    return _result(self, merged)


def delete_repository_creation_template(self: ECRResponse) -> ActionResult:
    prefix = self._get_param("prefix")
    store = _templates(self.ecr_backend)
    if prefix not in store:
        raise TemplateNotFoundException(
            f"Repository creation template with prefix '{prefix}' does not exist"
        )
    return _result(self, store.pop(prefix))


def describe_repository_creation_templates(self: ECRResponse) -> ActionResult:
    wanted = self._get_param("prefixes")
    store = _templates(self.ecr_backend)
    found = [t for p, t in sorted(store.items()) if not wanted or p in wanted]
    return ActionResult({"registryId": self.current_account, "repositoryCreationTemplates": found})


def put_replication_configuration(
    self: ECRBackend, replication_config: dict[str, Any]
) -> dict[str, Any]:
    # moto rejects more than one rule; AWS allows 10 (the provider) to 25 (the API model). Each
    # rule still goes through moto's own check (a destination may not be the source registry).
    for rule in replication_config["rules"]:
        _ORIGINAL_PUT(self, {"rules": [rule]})
    self.replication_config = replication_config
    return {"replicationConfiguration": replication_config}


_ORIGINAL_PUT = ECRBackend.put_replication_configuration

# Role ARNs AssumeRole refuses, as IAM refuses a role whose trust policy does not admit the caller.
DENIED_ROLES: set[str] = set()


class AccessDenied(ServiceException):
    code = "AccessDenied"


def assume_role(self: TokenResponse) -> ActionResult:
    role_arn = self._get_param("RoleArn")
    if role_arn in DENIED_ROLES:
        raise AccessDenied(
            f"User: arn:aws:iam::{self.current_account}:user/test is not authorized to perform: "
            f"sts:AssumeRole on resource: {role_arn}"
        )
    return _ORIGINAL_ASSUME(self)


_ORIGINAL_ASSUME = TokenResponse.assume_role

_RESPONSES = {
    f.__name__: f
    for f in (
        create_repository_creation_template,
        update_repository_creation_template,
        delete_repository_creation_template,
        describe_repository_creation_templates,
    )
}


def validate_registry_policy_actions(self: ECRBackend, policy_text: str) -> None:
    # Scope V2: any ECR action (ecr:*), in Action or NotAction; nothing of another service.
    for statement in json.loads(policy_text)["Statement"]:
        actions = statement.get("Action", statement.get("NotAction", []))
        for action in [actions] if isinstance(actions, str) else actions:
            if not action.lower().startswith("ecr:"):
                raise MalformedPolicyDocument()


def install(patch: pytest.MonkeyPatch) -> None:
    """Apply the overrides for as long as `patch` lives."""
    # IAM's AccessDenied is not an error shape of STS's model; moto serialises it all the same.
    warnings.filterwarnings("ignore", r"Exception\(AccessDenied\)", UserWarning)
    patch.setattr(ECRBackend, "put_replication_configuration", put_replication_configuration)
    patch.setattr(TokenResponse, "assume_role", assume_role)
    patch.setattr(ECRBackend, "_validate_registry_policy_action", validate_registry_policy_actions)
    for name, handler in _RESPONSES.items():
        patch.setattr(ECRResponse, name, handler, raising=False)
