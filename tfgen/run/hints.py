"""Recognise the common causes of a failed terraform command and say what to do."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_ERROR = re.compile(r"^[\s│]*Error: (.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Cause:
    """A usual cause of a failed terraform command: its name in reports, the texts that give it
    away, what to do, and whether it is the environment's (it fails every stack alike, so a run
    stops early on it: tfgen.run.failfast) rather than one stack's."""

    name: str
    needles: tuple[str, ...]
    hint: str
    environment: bool


CAUSES: Sequence[Cause] = (
    Cause(
        "provider download",
        (
            "Failed to query available provider packages",
            "could not connect to registry.terraform.io",
            "Failed to install provider",
            "could not connect to registry.opentofu.org",
        ),
        "a provider could not be downloaded: this machine is offline or cannot reach the "
        "registry; use a provider mirror (provider_installation in the CLI config) or a "
        "plugin cache filled beforehand",
        environment=True,
    ),
    Cause(
        "credentials",
        (
            "No valid credential sources found",
            "NoCredentialProviders",
            "failed to get shared config profile",
            "AccessDenied",
            "not authorized to perform: sts:AssumeRole",
        ),
        "no AWS credentials, or the role could not be assumed: check AWS_PROFILE / the "
        "credentials in this environment and the role's trust policy",
        environment=True,
    ),
    Cause(
        "state lock",
        ("Error acquiring the state lock", "ConditionalCheckFailedException"),
        "the state is locked by another run: wait for it; if it died, "
        "`terraform force-unlock LOCK_ID` in the stack (the lock ID is in the log)",
        environment=False,
    ),
    Cause(
        "terraform version",
        (
            "Unsupported Terraform Core version",
            "Unsupported block type",  # e.g. `precondition` (1.2+) read by an older terraform
        ),
        "the configuration uses syntax this terraform does not know: tfgen's stacks and modules "
        "need Terraform >= 1.5 (the stacks' required_version); check `terraform version` or pass "
        "--terraform",
        environment=True,
    ),
    Cause(
        "backend access",
        ("NoSuchBucket", "S3 bucket does not exist", "bucket does not exist"),
        "the backend's S3 bucket does not exist: create it first or fix the backend configuration",
        environment=True,
    ),
)


def cause_of(output: str) -> Cause | None:
    """The first cause whose texts appear in the output, or None when we do not recognise it."""
    return next((c for c in CAUSES if any(n in output for n in c.needles)), None)


def hint_for(output: str) -> str:
    """The first matching hint, or "" when the failure is not one we recognise."""
    cause = cause_of(output)
    return cause.hint if cause else ""


def first_error(output: str) -> str:
    """Terraform's first `Error: ...` summary line, so the report says what went wrong."""
    match = _ERROR.search(output)
    return match.group(1) if match else ""
