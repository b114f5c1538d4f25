"""Where run-time state lives: `DIR/.tfgen/` (plans/, logs/, applied.json, the directory lock)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tfgen import dirlock, safeio
from tfgen.constants import STATE_DIR
from tfgen.manifest import ManifestStack
from tfgen.run.model import PlanSummary
from tfgen.run.summary import as_dict, from_dict

RECORD_VERSION = 1


@dataclass(frozen=True)
class PlanRecord:
    """What `tfgen plan` knew about a saved plan; `tfgen apply` checks it before applying."""

    stack_id: str
    content_hash: str
    changes: bool
    destroy: bool
    planned_at: float
    terraform_version: str
    summary: PlanSummary | None = None


def log_name(stack_id: str) -> str:
    """The file name of a stack's log and plan: its id with `/` → `__`."""
    return stack_id.replace("/", "__")


@dataclass(frozen=True)
class Workspace:
    """The run-time files of one rendered tree."""

    root: Path
    # Where the last-applied hashes live; CI keeps them between jobs (an artifact, a cache).
    applied_file: Path | None = None

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def plans_dir(self) -> Path:
        return self.state_dir / "plans"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def applied_path(self) -> Path:
        return self.applied_file or self.state_dir / "applied.json"

    @property
    def lock_path(self) -> Path:
        return dirlock.lock_path(self.root)

    def ensure(self) -> None:
        """DIR/.tfgen and its directories, each a real directory (terraform writes plans where
        tfgen says: a link planted in a pull request must not take them outside the tree)."""
        safeio.state_dir(self.root)
        for d in (self.plans_dir, self.logs_dir):
            safeio.real_dir(d)

    def log_path(self, stack: ManifestStack) -> Path:
        return self.logs_dir / f"{log_name(stack.id)}.log"

    def plan_path(self, stack: ManifestStack, destroy: bool = False) -> Path:
        suffix = ".destroy.tfplan" if destroy else ".tfplan"
        return self.plans_dir / f"{log_name(stack.id)}{suffix}"

    def record_path(self, stack: ManifestStack, destroy: bool = False) -> Path:
        return self.plan_path(stack, destroy).with_suffix(".json")

    def write_record(self, stack: ManifestStack, record: PlanRecord) -> None:
        body: dict[str, Any] = {
            "record_version": RECORD_VERSION,
            **{k: v for k, v in record.__dict__.items() if k != "summary"},
            "summary": as_dict(record.summary) if record.summary else None,
        }
        path = self.record_path(stack, record.destroy)
        safeio.replace(path, (json.dumps(body, indent=2) + "\n").encode())

    def read_record(self, stack: ManifestStack, destroy: bool = False) -> PlanRecord | None:
        """The record of a saved plan, or None when there is no complete saved plan."""
        path = self.record_path(stack, destroy)
        if not self.plan_path(stack, destroy).is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return PlanRecord(
                stack_id=str(data["stack_id"]),
                content_hash=str(data["content_hash"]),
                changes=bool(data["changes"]),
                destroy=bool(data["destroy"]),
                planned_at=float(data["planned_at"]),
                terraform_version=str(data["terraform_version"]),
                summary=from_dict(data["summary"]) if data.get("summary") else None,
            )
        except (FileNotFoundError, json.JSONDecodeError, KeyError, TypeError, ValueError):
            return None

    def discard_plan(self, stack: ManifestStack, destroy: bool = False) -> None:
        # The record goes first: a plan file without a record is never applied.
        self.record_path(stack, destroy).unlink(missing_ok=True)
        self.plan_path(stack, destroy).unlink(missing_ok=True)
        if not destroy:
            self.in_sync_path(stack).unlink(missing_ok=True)

    def in_sync_path(self, stack: ManifestStack) -> Path:
        return self.plans_dir / f"{log_name(stack.id)}.in-sync.json"

    def write_in_sync(self, stack: ManifestStack, content_hash: str, verified_at: float) -> None:
        """Record that the last plan found the stack in sync (no saved plan, nothing to apply)."""
        self.discard_plan(stack)  # an older saved plan must not be applied after this verdict
        body = {
            "record_version": RECORD_VERSION,
            "stack_id": stack.id,
            "content_hash": content_hash,
            "verified_at": verified_at,
        }
        safeio.replace(self.in_sync_path(stack), (json.dumps(body, indent=2) + "\n").encode())

    def read_in_sync(self, stack: ManifestStack) -> str | None:
        """The content hash at which the last plan found the stack in sync, or None."""
        try:
            data = json.loads(self.in_sync_path(stack).read_text(encoding="utf-8"))
            return str(data["content_hash"]) if data.get("stack_id") == stack.id else None
        except (OSError, json.JSONDecodeError, KeyError, TypeError, AttributeError):
            return None


def now() -> float:
    return time.time()
