"""Names several steps must agree on: files tfgen reads and writes, and what it writes into AWS."""

from __future__ import annotations

DEFAULT_SPEC = "tfgen.yaml"  # the spec every command reads when none is given
LOCK_FILE = "tfgen.lock.json"  # Organizations targets resolved to accounts, beside the spec
STATE_DIR = ".tfgen"  # run-time state inside a rendered tree (plans, logs, stamps, the dir lock)

GRANT_SID = "TfgenReplication"  # Sid of the packed replication grant in each registry policy
GRANT_ACTIONS = ("ecr:CreateRepository", "ecr:ReplicateImage")
POLICY_VERSION = "2012-10-17"
