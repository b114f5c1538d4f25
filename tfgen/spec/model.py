"""Spec v1: the shape and types of tfgen.yaml (docs/spec.md documents every field).

Only shape lives here; rules that span fields (names defined, Regions per partition, AWS limits) are
in checks.py so every problem is reported at once, each with its path.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    field_validator,
)

from tfgen import limits
from tfgen.spec.issues import Issue, SpecPath, did_you_mean

Name = Annotated[StrictStr, Field(pattern=limits.ACCOUNT_NAME_PATTERN)]
Region = StrictStr
DEFAULT_BACKEND_KEY = "ecr/{account}/{stack}.tfstate"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class S3Backend(_Model):
    bucket: StrictStr
    region: StrictStr
    key: StrictStr = DEFAULT_BACKEND_KEY
    use_lockfile: StrictBool = True
    encrypt: StrictBool = True
    dynamodb_table: StrictStr | None = None
    role_arn: StrictStr | None = None


class Backend(_Model):
    s3: S3Backend


class TerraformSettings(_Model):
    required_version: StrictStr | None = None  # None: what the features in use need
    aws_provider_version: StrictStr = ">= 5.61, < 7.0"


class Grants(_Model):
    """How a destination account's registry policy grants replication (None: inherit)."""

    scope: Literal["scoped", "wide"] | None = None  # None: defaults, then scoped
    create_repositories: StrictBool | None = None  # None: defaults, then true


class Defaults(_Model):
    role_arn: StrictStr | None = None
    backend: Backend | None = None
    terraform: TerraformSettings = TerraformSettings()
    grants: Grants = Grants()


def _account_id(value: Any) -> Any:
    # YAML reads an unquoted 12-digit id as an int; accept it rather than make users quote.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # the 12-digit check then explains what is wrong with it
    return value


class Account(_Model):
    id: StrictStr
    role_arn: StrictStr | None = None
    partition: StrictStr = "aws"
    grants: Grants = Grants()

    _coerce_id = field_validator("id", mode="before")(_account_id)


class Endpoint(_Model):
    """One side of a replication entry: an account (or, with a lock file, an Organizations target)
    and the Regions."""

    account: StrictStr | None = None
    organizational_unit: StrictStr | None = None
    organization: StrictBool | None = None
    regions: list[Region] = Field(min_length=1)


class Replication(_Model):
    name: StrictStr | None = None
    from_: Endpoint = Field(alias="from")
    to: list[Endpoint] = Field(min_length=1)
    filters: list[StrictStr] = []


class RegistryPolicy(_Model):
    statements: list[dict[str, Any]] = []
    regions: list[Region] | None = None


class Encryption(_Model):
    type: Literal["AES256", "KMS", "KMS_DSSE"] = "AES256"
    kms_key: StrictStr | dict[StrictStr, StrictStr] | None = None  # an ARN, or Region → ARN


def _exclusion_filter(value: Any) -> Any:
    return (
        {"filter": value} if isinstance(value, str) else value
    )  # "latest*" is short for a WILDCARD


class ExclusionFilter(_Model):
    filter: StrictStr
    filter_type: Literal["WILDCARD"] = "WILDCARD"


class CreationTemplate(_Model):
    accounts: list[StrictStr] = Field(min_length=1)
    regions: list[Region] | None = None
    prefix: StrictStr
    description: StrictStr | None = None
    applied_for: list[Literal["REPLICATION", "PULL_THROUGH_CACHE", "CREATE_ON_PUSH"]] = [
        "REPLICATION"
    ]
    image_tag_mutability: Literal[
        "MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"
    ] = "MUTABLE"
    image_tag_mutability_exclusion_filters: list[
        Annotated[ExclusionFilter, BeforeValidator(_exclusion_filter)]
    ] = []
    encryption: Encryption = Encryption()
    lifecycle_policy: dict[str, Any] | None = None
    repository_policy: dict[str, Any] | None = None
    resource_tags: dict[StrictStr, StrictStr] = {}
    custom_role_arn: StrictStr | None = None


def grant_settings(spec: Spec, account: str) -> tuple[Literal["scoped", "wide"], bool]:
    """The grant scope and whether it allows ecr:CreateRepository, for a destination account:
    the account's own `grants`, then `defaults.grants`, then scoped and true."""
    own, shared = spec.accounts[account].grants, spec.defaults.grants
    scope = own.scope or shared.scope or "scoped"
    create = next(
        (v for v in (own.create_repositories, shared.create_repositories) if v is not None), True
    )
    return scope, create


class Spec(_Model):
    version: Literal[1]
    defaults: Defaults = Defaults()
    accounts: dict[Name, Account]  # may be {} when Organizations targets name every account
    replication: list[Replication] = []
    registry_policies: dict[StrictStr, RegistryPolicy] = {}
    creation_templates: list[CreationTemplate] = []


# pydantic's loc uses field names; the spec uses aliases.
_ALIASES = {"from_": "from"}


def spec_path(loc: tuple[int | str, ...]) -> SpecPath:
    path: list[str | int] = []
    for part in loc:
        if (isinstance(part, str) and part.startswith("function-")) or part in ("[key]",):
            continue
        path.append(_ALIASES.get(part, part) if isinstance(part, str) else part)
    return tuple(path)


def _allowed_keys(model: type[BaseModel]) -> list[str]:
    return sorted(f.alias or name for name, f in model.model_fields.items())


def model_at(path: SpecPath) -> type[BaseModel] | None:
    """The model class that sits at a path, to list its allowed keys."""
    model: type[BaseModel] | None = Spec
    skip_key = False  # the next part is a mapping key (an account name), not a field
    for part in path:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        if skip_key:
            skip_key = False
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return None
        skip_key = getattr(field.annotation, "__origin__", None) is dict
        model = _inner_model(field.annotation)
    return None if skip_key else model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


_TYPE_NAMES = {
    "string_type": "a string",
    "int_type": "an integer",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
}


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    kind = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)
    shown = repr(value) if not isinstance(value, (list, dict)) else ""
    return f"{kind} {shown}".strip()


def pydantic_issues(errors: list[Any]) -> list[Issue]:
    """pydantic errors → Issues with spec paths and messages that say what would be right."""
    issues: list[Issue] = []
    seen: set[tuple[SpecPath, str]] = set()
    for err in errors:
        path = spec_path(tuple(err["loc"]))
        kind = err["type"]
        value = err.get("input")
        if kind == "extra_forbidden":
            parent = model_at(path[:-1])
            allowed = ", ".join(_allowed_keys(parent)) if parent else ""
            hint = did_you_mean(path[-1], _allowed_keys(parent)) if parent else ""
            msg = f"unknown key '{path[-1]}'{hint}"
            if allowed and "did you mean" not in hint:
                msg = f"unknown key '{path[-1]}'; allowed keys: {allowed}"
        elif kind == "missing":
            msg = f"missing required key '{path[-1]}'"
        elif kind in _TYPE_NAMES:
            msg = f"expected {_TYPE_NAMES[kind]}, got {_describe(value)}"
        elif kind == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            msg = f"{value!r} is not allowed; expected {expected}"
        elif kind == "too_short":
            msg = "must not be empty" if not value else err["msg"]
        elif kind == "string_pattern_mismatch" and path[:1] == ("accounts",):
            msg = (
                f"account name {value!r} must be lowercase letters, digits, '-' or '_' "
                "(it names a directory and Terraform state key)"
            )
        else:
            msg = err["msg"]
        key = (path, msg)
        if key not in seen:
            seen.add(key)
            issues.append(Issue(path, msg))
    return issues
