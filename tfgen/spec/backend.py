"""Checks of `defaults.backend.s3`: what Terraform's S3 backend, S3, DynamoDB and IAM would refuse.

Terraform checks only the key's slashes before it talks to AWS; a bad bucket name, table name or
role ARN fails `terraform init` in every stack, so they are checked here, with the rule that says why.
"""

from __future__ import annotations

import ipaddress
import re

from tfgen.spec import arns, placeholders, regions
from tfgen.spec.issues import Issue, SpecPath, did_you_mean
from tfgen.spec.model import S3Backend

KEY_PLACEHOLDERS = ("account", "account_id", "stack")
KEY_MAX_BYTES = 1024  # S3 User Guide, "Naming Amazon S3 objects": keys up to 1,024 bytes of UTF-8
# The longest values a placeholder takes: an account name (63), an id (12), a stack kind (15).
_PLACEHOLDER_WIDTH = {"account": 63, "account_id": 12, "stack": 15}

# S3 User Guide, "General purpose bucket naming rules".
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
# DynamoDB Developer Guide, "Naming rules": 3 to 255 of a-z, A-Z, 0-9, '_', '-', '.'.
_TABLE = re.compile(r"[A-Za-z0-9_.-]{3,255}")


def bucket_problem(name: str) -> str | None:
    """Why S3 would refuse `name` as a general purpose bucket name, or None."""
    if not _BUCKET.fullmatch(name):
        return (
            "3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter "
            "or digit"
        )
    if ".." in name:
        return "no two adjacent periods"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        return "not formatted as an IP address"
    for prefix in _BUCKET_PREFIXES:
        if name.startswith(prefix):
            return f"must not start with '{prefix}' (reserved)"
    for suffix in _BUCKET_SUFFIXES:
        if name.endswith(suffix):
            return f"must not end with '{suffix}' (reserved)"
    return None


def _key_issues(key: str, path: SpecPath) -> list[Issue]:
    bad = placeholders.problem(key, KEY_PLACEHOLDERS)
    if bad is not None:
        return [Issue(path, f"{bad}; use {{account}}, {{account_id}} or {{stack}}")]
    if "{account" not in key or "{stack}" not in key:
        return [
            Issue(
                path,
                "the state key must contain {account} (or {account_id}) and {stack}, "
                "or every stack would share one state file",
            )
        ]
    # Terraform's S3 backend refuses these before it reads any state (measured, Terraform 1.11).
    if key.startswith("/") or key.endswith("/"):
        return [
            Issue(path, "the state key must not start or end with '/' (Terraform's S3 backend)")
        ]
    if "//" in key:
        return [Issue(path, "the state key must not contain '//' (Terraform's S3 backend)")]
    longest = len(placeholders.fill(key, {k: "x" * n for k, n in _PLACEHOLDER_WIDTH.items()}))
    if len(key.encode()) - len(key) + longest > KEY_MAX_BYTES:
        return [Issue(path, f"the state key can exceed {KEY_MAX_BYTES:,} bytes, S3's limit")]
    return []


def check_backend(s3: S3Backend) -> list[Issue]:
    base: SpecPath = ("defaults", "backend", "s3")
    issues = _key_issues(s3.key, (*base, "key"))
    bucket = bucket_problem(s3.bucket)
    if bucket is not None:
        issues.append(
            Issue(
                (*base, "bucket"),
                f"{s3.bucket!r} is not an S3 bucket name: {bucket} (S3 bucket naming rules)",
            )
        )
    if regions.partition_of(s3.region) is None:
        known = set().union(*(regions.ecr_regions(p) for p in regions.partitions()))
        issues.append(
            Issue(
                (*base, "region"),
                f"unknown Region {s3.region!r}" + did_you_mean(s3.region, known),
            )
        )
    if s3.dynamodb_table is not None and not _TABLE.fullmatch(s3.dynamodb_table):
        issues.append(
            Issue(
                (*base, "dynamodb_table"),
                f"{s3.dynamodb_table!r} is not a DynamoDB table name: 3 to 255 letters, digits, "
                "'_', '-' and '.'",
            )
        )
    if s3.role_arn is not None and arns.role_arn(s3.role_arn) is None:
        issues.append(
            Issue(
                (*base, "role_arn"),
                f"{s3.role_arn!r} is not an IAM role ARN like '{arns.ROLE_ARN_EXAMPLE}' "
                "(ASCII, no placeholders: one role reads every stack's state)",
            )
        )
    return issues


__all__ = ["bucket_problem", "check_backend"]
