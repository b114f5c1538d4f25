"""Names several steps must agree on: files tfgen reads and writes, and what it writes into AWS."""

from __future__ import annotations

DEFAULT_SPEC = "tfgen.yaml"  # the spec every command reads when none is given
LOCK_FILE = "tfgen.lock.json"  # Organizations targets resolved to accounts, beside the spec
STATE_DIR = ".tfgen"  # run-time state inside a rendered tree (plans, logs, stamps, the dir lock)

# Sids of the replication grants tfgen writes: GRANT_SID for the statement that grants every
# repository, GRANT_SID + lowercase hex (a hash of the repository prefixes) for the others. A user
# statement may not use a Sid of this form.
GRANT_SID = "TfgenReplication"
GRANT_SID_PATTERN = r"TfgenReplication[0-9a-f]*"
GRANT_ACTIONS = ("ecr:CreateRepository", "ecr:ReplicateImage")
REPLICATE_ONLY_ACTIONS = ("ecr:ReplicateImage",)  # grants.create_repositories: false
POLICY_VERSION = "2012-10-17"
