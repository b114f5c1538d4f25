"""Each rendered stack's desired registries: `desired.json` beside its Terraform, owned by tfgen.

Render writes, in every stack's directory, what the stack makes true in each of its registries,
in `tfgen compile --json`'s shape restricted to the stack's settings: a registry-policy stack's
registry policies and creation templates, a replication stack's replication configurations;
with the account and the role its providers assume. So a rendered tree says what it should make
true without the spec, and `tfgen plan` compares the live registries with that (tfgen.aws.verify,
the comparison `tfgen verify` makes) to leave out the stacks that are in sync.

The file arrives in pull requests like the rest of the tree: it is listed and hashed in the
manifest (`check_tree` refuses an edited one, and `read` checks the bytes it parses against that
hash), it is part of the stack's content hash (so the applied record covers it), and it is parsed
strictly here, every key, type, identifier and size, into tfgen.state's types. Nothing in it is
evaluated; its policy documents are data that is compared.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tfgen import limits
from tfgen.errors import TfgenError
from tfgen.manifest import (
    REGISTRY_POLICY,
    REPLICATION,
    Manifest,
    ManifestStack,
    TreeGuard,
    UnsafePathError,
)
from tfgen.state import (
    POLICY_SETTING,
    REPLICATION_SETTING,
    TEMPLATES_SETTING,
    AccountState,
    CreationTemplate,
    DesiredRegistry,
    Destination,
    Rule,
    sent_json,
)

FILE = "desired.json"
VERSION = 1
COMMENT = (
    "Written by tfgen render; do not edit. What this stack makes true in each registry, in "
    "`tfgen compile --json`'s shape: tfgen plan compares the live registries with it."
)
SETTINGS = {
    REGISTRY_POLICY: frozenset({POLICY_SETTING, TEMPLATES_SETTING}),
    REPLICATION: frozenset({REPLICATION_SETTING}),
}
# The JSON keys of each setting of a registry (DesiredRegistry.to_json).
_SETTING_KEYS = {
    REPLICATION_SETTING: "replication_configuration",
    POLICY_SETTING: "registry_policy",
    TEMPLATES_SETTING: "creation_templates",
}
MAX_BYTES = 8 << 20  # far above any stack tfgen renders (10 Regions of policies at the limit)

_ACCOUNT_ID = re.compile(limits.ACCOUNT_ID_PATTERN)
_REGION = re.compile(limits.PROVIDER_REGION_PATTERN)
_PARTITION = re.compile(r"^aws(-[a-z]+)*$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$")
_FILTER = re.compile(limits.FILTER_PATTERN)
_PREFIX = re.compile(limits.TEMPLATE_PREFIX_PATTERN)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TEMPLATE_KEYS = {
    "prefix",
    "appliedFor",
    "imageTagMutability",
    "encryptionConfiguration",
    "imageTagMutabilityExclusionFilters",
    "description",
    "resourceTags",
    "lifecyclePolicy",
    "repositoryPolicy",
    "customRoleArn",
}
_REQUIRED_TEMPLATE_KEYS = ("prefix", "appliedFor", "imageTagMutability", "encryptionConfiguration")


class DesiredError(TfgenError):
    """A stack's desired.json is missing, not what tfgen wrote, or breaks a rule."""


@dataclass(frozen=True)
class StackDesired:
    """What one rendered stack makes true: its account (and the role its providers assume) and,
    per registry, the settings the stack manages."""

    stack_id: str
    account: AccountState
    registries: tuple[DesiredRegistry, ...]


def path_of(account: str, kind: str) -> str:
    """Where a stack's desired.json is, relative to the tree."""
    return f"stacks/{account}/{kind}/{FILE}"


# --- writing --------------------------------------------------------------------------------------


# One encoder for every value: json.dumps with options builds a new encoder at each call.
_VALUE_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False)


def encode(
    stack_id: str, kind: str, account: AccountState, registries: Sequence[DesiredRegistry]
) -> str:
    """The file's text: one registry per line, keys sorted, so a change reads as a small diff."""
    dump, value = json.dumps, _VALUE_ENCODER.encode
    head = {
        "_comment": COMMENT,
        "account": {
            "id": account.account_id,
            "name": account.name,
            "partition": account.partition,
            "role_arn": account.role_arn,
        },
        "desired_version": VERSION,
        "kind": kind,
        "stack": stack_id,
    }
    lines = [f"  {dump(k)}: {value(v)}," for k, v in head.items()]
    rows = ",\n".join(f"    {value(r.to_json())}" for r in registries)
    return "{\n" + "\n".join(lines) + f'\n  "registries": [\n{rows}\n  ]\n}}\n'


# --- reading --------------------------------------------------------------------------------------


def read(manifest: Manifest, stack: ManifestStack) -> StackDesired:
    """The stack's desired.json, checked against the manifest's hash and parsed strictly."""
    rel = f"{stack.path}/{FILE}"
    where = manifest.root / rel
    digest = manifest.files.get(rel)
    if digest is None:
        raise DesiredError(
            f"{where}: not in the manifest (a tree rendered by a tfgen without desired state): "
            "re-render the tree"
        )
    try:
        raw = TreeGuard(manifest.root).read(rel)
    except (UnsafePathError, OSError) as exc:
        raise DesiredError(f"{where}: cannot read it ({exc})") from None
    if raw is None:
        raise DesiredError(f"{where}: listed in the manifest, but missing")
    if len(raw) > MAX_BYTES or hashlib.sha256(raw).hexdigest() != digest:
        raise DesiredError(f"{where}: changed since tfgen rendered it (not the manifest's hash)")
    return parse(raw, stack, str(where))


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen = [k for k, _ in pairs]
        twice = next(k for k in seen if seen.count(k) > 1)
        raise ValueError(f"key {twice!r} appears twice in one object")
    return out


def parse(raw: bytes, stack: ManifestStack, where: str) -> StackDesired:
    """Check `raw` against the rules of the file and the stack's manifest entry; every problem
    is reported at once."""
    if len(raw) > MAX_BYTES:
        raise DesiredError(f"{where}: larger than {MAX_BYTES} bytes; tfgen never writes that")
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_pairs)
    except (UnicodeDecodeError, ValueError) as exc:
        raise DesiredError(f"{where}: not valid JSON ({exc}); re-render the tree") from None
    p = _Checker()
    result = p.document(data, stack)
    if p.problems or result is None:
        shown = p.problems[:10] + (
            [f"... and {len(p.problems) - 10} more"] if p.problems[10:] else []
        )
        raise DesiredError(
            f"{where} is not what tfgen wrote:\n  " + "\n  ".join(shown) + "\nRe-render the tree."
        )
    return result


class _Checker:
    """Collects every problem of one file, each with its path in the document."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def bad(self, path: str, what: str) -> None:
        self.problems.append(f"{path}: {what}")

    def obj(
        self, value: Any, path: str, required: Sequence[str], optional: Sequence[str] = ()
    ) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.bad(path, f"expected an object, got {type(value).__name__}")
            return None
        before = len(self.problems)
        for key in value:
            if key not in required and key not in optional:
                self.bad(path, f"unknown key {key!r}")
        for key in required:
            if key not in value:
                self.bad(path, f"missing key {key!r}")
        return value if len(self.problems) == before else None

    def text(
        self, value: Any, path: str, pattern: re.Pattern[str] | None = None, limit: int = 1024
    ) -> str | None:
        if not isinstance(value, str):
            self.bad(path, f"expected a string, got {type(value).__name__}")
        elif len(value) > limit or _CONTROL.search(value):
            self.bad(path, "too long, or holds a control character")
        elif pattern is not None and not pattern.fullmatch(value):
            self.bad(path, f"{value!r} is not valid here")
        else:
            return value
        return None

    def items(self, value: Any, path: str, most: int, least: int = 0) -> list[Any]:
        if not isinstance(value, list):
            self.bad(path, f"expected a list, got {type(value).__name__}")
            return []
        if not least <= len(value) <= most:
            self.bad(path, f"expected {least} to {most} items, got {len(value)}")
            return []
        return value

    def same(self, value: Any, expected: Any, path: str) -> None:
        if value != expected:
            self.bad(path, f"{value!r} is not this stack's {expected!r} (tfgen.manifest.json)")

    # --- the document ---------------------------------------------------------------------------

    def document(self, data: Any, stack: ManifestStack) -> StackDesired | None:
        top = self.obj(
            data, "$", ("desired_version", "stack", "kind", "account", "registries"), ("_comment",)
        )
        if top is None:
            return None
        if type(top["desired_version"]) is not int or top["desired_version"] != VERSION:
            self.bad("desired_version", f"expected {VERSION}, got {top['desired_version']!r}")
            return None
        self.same(top["stack"], stack.id, "stack")
        self.same(top["kind"], stack.kind, "kind")
        if stack.kind not in SETTINGS or stack.retired:
            self.bad("kind", "a retired stack, or a kind without desired state")
            return None
        account = self.account(top["account"], stack)
        regions = [r for r in stack.regions if r not in stack.retired_regions]
        seen: set[str] = set()
        registries: list[DesiredRegistry] = []
        for i, item in enumerate(self.items(top["registries"], "registries", len(regions), 1)):
            registry = self.registry(item, f"registries[{i}]", stack, account, SETTINGS[stack.kind])
            if registry is None:
                continue
            if registry.region not in regions or registry.region in seen:
                self.bad(f"registries[{i}].region", "not one of the stack's Regions, or twice")
            seen.add(registry.region)
            registries.append(registry)
        if account is None or self.problems:
            return None
        return StackDesired(stack.id, account, tuple(registries))

    def account(self, value: Any, stack: ManifestStack) -> AccountState | None:
        a = self.obj(value, "account", ("id", "name", "partition", "role_arn"))
        if a is None:
            return None
        self.same(a["name"], stack.account, "account.name")
        self.same(a["id"], stack.account_id, "account.id")
        partition = self.text(a["partition"], "account.partition", _PARTITION, 32)
        role = a["role_arn"]
        if role is not None:
            role = self.text(role, "account.role_arn", _ROLE_ARN, limits.ROLE_ARN_MAX_LENGTH.value)
            if role is not None and role.split(":")[4] != stack.account_id:
                self.bad("account.role_arn", "a role of another account")
        if partition is None or (a["role_arn"] is not None and role is None):
            return None
        return AccountState(stack.account, stack.account_id, partition, role)

    def registry(
        self,
        value: Any,
        path: str,
        stack: ManifestStack,
        account: AccountState | None,
        settings: frozenset[str],
    ) -> DesiredRegistry | None:
        keys = ("account", "account_id", "region", "partition")
        r = self.obj(value, path, (*keys, *(_SETTING_KEYS[s] for s in sorted(settings))))
        if r is None:
            return None
        self.same(r["account"], stack.account, f"{path}.account")
        self.same(r["account_id"], stack.account_id, f"{path}.account_id")
        if account is not None:
            self.same(r["partition"], account.partition, f"{path}.partition")
        region = self.text(r["region"], f"{path}.region", _REGION, 32)
        rules: tuple[Rule, ...] = ()
        if REPLICATION_SETTING in settings:
            rules = self.rules(r["replication_configuration"], f"{path}.replication_configuration")
        policy = None
        if POLICY_SETTING in settings:
            policy = self.policy(r["registry_policy"], f"{path}.registry_policy")
        templates: tuple[CreationTemplate, ...] = ()
        if TEMPLATES_SETTING in settings:
            found = self.items(r["creation_templates"], f"{path}.creation_templates", 1000)
            templates = tuple(
                t
                for i, item in enumerate(found)
                if (t := self.template(item, f"{path}.creation_templates[{i}]", i)) is not None
            )
            prefixes = [t.prefix for t in templates]
            if len(set(prefixes)) != len(prefixes):
                self.bad(f"{path}.creation_templates", "two templates of one prefix")
        if region is None or not isinstance(r["partition"], str):
            return None
        return DesiredRegistry(
            stack.account,
            stack.account_id,
            region,
            r["partition"],
            rules,
            policy,
            templates,
            settings,
        )

    def rules(self, value: Any, path: str) -> tuple[Rule, ...]:
        if value is None:
            return ()
        config = self.obj(value, path, ("rules",))
        if config is None:
            return ()
        out: list[Rule] = []
        most = limits.RULES_PER_REGISTRY.api_value
        for i, item in enumerate(self.items(config["rules"], f"{path}.rules", most, 1)):
            where = f"{path}.rules[{i}]"
            rule = self.obj(item, where, ("destinations",), ("repositoryFilters",))
            if rule is None:
                continue
            most = limits.DESTINATIONS_PER_RULE.api_value
            dests = []
            for j, d in enumerate(
                self.items(rule["destinations"], f"{where}.destinations", most, 1)
            ):
                dest = self.obj(d, f"{where}.destinations[{j}]", ("region", "registryId"))
                if dest is not None:
                    region = self.text(dest["region"], f"{where}.destinations[{j}].region", _REGION)
                    registry = self.text(
                        dest["registryId"], f"{where}.destinations[{j}].registryId", _ACCOUNT_ID
                    )
                    if region is not None and registry is not None:
                        dests.append(Destination(region, registry))
            filters = []
            given = rule.get("repositoryFilters", [])
            most = limits.FILTERS_PER_RULE.api_value
            least = 1 if "repositoryFilters" in rule else 0  # none: every repository
            for j, f in enumerate(self.items(given, f"{where}.repositoryFilters", most, least)):
                filt = self.obj(f, f"{where}.repositoryFilters[{j}]", ("filter", "filterType"))
                if filt is not None:
                    self.same(filt["filterType"], "PREFIX_MATCH", f"{where}.filterType")
                    text = self.text(
                        filt["filter"],
                        f"{where}.repositoryFilters[{j}].filter",
                        _FILTER,
                        limits.FILTER_MAX_LENGTH.value,
                    )
                    if text is not None:
                        filters.append(text)
            out.append(Rule(tuple(dests), tuple(filters), entry=i))
        return tuple(out)

    def policy(self, value: Any, path: str) -> dict[str, Any] | None:
        if value is None:
            return None
        doc = self.obj(value, path, ("Version", "Statement"))
        if doc is None:
            return None
        self.text(doc["Version"], f"{path}.Version", limit=16)
        most = limits.REGISTRY_POLICY_MAX_LENGTH
        for i, stmt in enumerate(self.items(doc["Statement"], f"{path}.Statement", most.value, 1)):
            if not isinstance(stmt, dict):
                self.bad(f"{path}.Statement[{i}]", "expected an object")
        if len(sent_json(doc)) > most.value:
            self.bad(path, f"longer than {most.value} characters: {most.why()}")
        return doc

    def template(self, value: Any, path: str, index: int) -> CreationTemplate | None:
        t = self.obj(
            value,
            path,
            _REQUIRED_TEMPLATE_KEYS,
            sorted(_TEMPLATE_KEYS - set(_REQUIRED_TEMPLATE_KEYS)),
        )
        if t is None:
            return None
        before = len(self.problems)
        prefix = self.text(t["prefix"], f"{path}.prefix", _PREFIX, limits.PREFIX_MAX_LENGTH.value)
        applied = [
            self.text(a, f"{path}.appliedFor", limit=64)
            for a in self.items(t["appliedFor"], f"{path}.appliedFor", 8, 1)
        ]
        mutability = self.text(t["imageTagMutability"], f"{path}.imageTagMutability", limit=64)
        enc = self.obj(
            t["encryptionConfiguration"],
            f"{path}.encryptionConfiguration",
            ("encryptionType",),
            ("kmsKey",),
        )
        kms = None
        if enc is not None:
            self.text(enc["encryptionType"], f"{path}.encryptionConfiguration.encryptionType")
            if "kmsKey" in enc:
                kms = self.text(
                    enc["kmsKey"], f"{path}.kmsKey", limit=limits.KMS_KEY_MAX_LENGTH.value
                )
        filters = []
        given = t.get("imageTagMutabilityExclusionFilters", [])
        for j, f in enumerate(self.items(given, f"{path}.exclusionFilters", 1000)):
            item = self.obj(f, f"{path}.exclusionFilters[{j}]", ("filter", "filterType"))
            if item is not None:
                filters.append(
                    (
                        self.text(item["filter"], f"{path}.exclusionFilters[{j}].filter"),
                        self.text(item["filterType"], f"{path}.exclusionFilters[{j}].filterType"),
                    )
                )
        tags = []
        for j, tag in enumerate(
            self.items(t.get("resourceTags", []), f"{path}.resourceTags", 1000)
        ):
            item = self.obj(tag, f"{path}.resourceTags[{j}]", ("Key", "Value"))
            if item is not None:
                tags.append(
                    (
                        self.text(item["Key"], f"{path}.resourceTags[{j}].Key"),
                        self.text(item["Value"], f"{path}.resourceTags[{j}].Value"),
                    )
                )
        optional: dict[str, str | None] = {}
        for key in ("description", "customRoleArn"):
            if key in t:
                optional[key] = self.text(t[key], f"{path}.{key}", limit=4096)
        documents = {
            key: self.json_text(t[key], f"{path}.{key}", limit.value)
            for key, limit in (
                ("lifecyclePolicy", limits.LIFECYCLE_POLICY_MAX_LENGTH),
                ("repositoryPolicy", limits.REPOSITORY_POLICY_MAX_LENGTH),
            )
            if key in t
        }
        if len(self.problems) > before or prefix is None or mutability is None or enc is None:
            return None
        return CreationTemplate(
            prefix=prefix,
            applied_for=tuple(str(a) for a in applied),
            image_tag_mutability=mutability,
            encryption_type=enc["encryptionType"],
            kms_key=kms,
            description=optional.get("description"),
            lifecycle_policy=documents.get("lifecyclePolicy"),
            repository_policy=documents.get("repositoryPolicy"),
            resource_tags=tuple((str(k), str(v)) for k, v in tags),
            custom_role_arn=optional.get("customRoleArn"),
            entry=index,
            exclusion_filters=tuple((str(f), str(k)) for f, k in filters),
        )

    def json_text(self, value: Any, path: str, limit: int) -> dict[str, Any] | None:
        text = self.text(value, path, limit=limit)
        if text is None:
            return None
        try:
            doc = json.loads(text, object_pairs_hook=_pairs)
        except ValueError as exc:
            self.bad(path, f"not a JSON document ({exc})")
            return None
        if not isinstance(doc, dict):
            self.bad(path, "not a JSON object")
            return None
        return doc


__all__ = ["FILE", "DesiredError", "StackDesired", "encode", "parse", "path_of", "read"]
