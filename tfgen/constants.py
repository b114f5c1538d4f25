"""Names tfgen writes into AWS that several steps must agree on."""

from __future__ import annotations

GRANT_SID = "TfgenReplication"  # Sid of the packed replication grant in each registry policy
GRANT_ACTIONS = ("ecr:CreateRepository", "ecr:ReplicateImage")
POLICY_VERSION = "2012-10-17"
