"""IAM role ARNs as IAM writes them: ASCII only, a partition, a 12-digit account, a path and name.

A `\\w` would admit any Unicode letter ('rôle'); IAM names are ASCII (IAM User Guide, IAM identifiers:
"alphanumeric characters plus +=,.@-_"), so the class is spelled out.
"""

from __future__ import annotations

import re

# Path (1-512 characters) and name (1-64) together: at most 576 (IAM quotas).
ROLE_ARN = re.compile(r"arn:(aws[a-z-]*):iam::([0-9]{12}):role/[A-Za-z0-9+=,.@_/-]{1,576}")
ROLE_ARN_EXAMPLE = "arn:aws:iam::111111111111:role/NAME"


def role_arn(text: str) -> re.Match[str] | None:
    """The match (groups: partition, account id) if `text` is a whole IAM role ARN."""
    return ROLE_ARN.fullmatch(text)


__all__ = ["ROLE_ARN", "ROLE_ARN_EXAMPLE", "role_arn"]
