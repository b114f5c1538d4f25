"""IAM role ARNs as IAM writes them: ASCII only, a partition, a 12-digit account, a path and name.

A `\\w` would admit any Unicode letter ('rôle'); IAM names are ASCII (IAM User Guide, IAM identifiers:
"alphanumeric characters plus +=,.@-_"), so the class is spelled out.
"""

from __future__ import annotations

import re

from tfgen import limits

ROLE_ARN = re.compile(limits.ROLE_ARN_PATTERN)
ROLE_ARN_EXAMPLE = "arn:aws:iam::111111111111:role/NAME"


def role_arn(text: str) -> re.Match[str] | None:
    """The match (groups: partition, account id) if `text` is a whole IAM role ARN."""
    return ROLE_ARN.fullmatch(text)


__all__ = ["ROLE_ARN", "ROLE_ARN_EXAMPLE", "role_arn"]
