"""Stop early on a broken environment: when the first stacks all fail with the same cause that is
the environment's (no credentials, no provider download, a terraform the stacks refuse, no state
bucket), every other stack would fail the same way, one error block each. The run starts no more
stacks; the report says the cause once, with its hint, and how many were not started.

Measured on the issue that asked for it: 310 stacks without credentials ran for 70 s and printed
310 identical error blocks. `--keep-going` runs every stack whatever happens.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tfgen.run.hints import CAUSES
from tfgen.run.model import StackResult, Status

# Failures alike, and no success yet, before the run stops. Enough that one flaky stack does not
# stop a run; few enough that a broken environment shows within the first parallel batch.
FAIL_FAST_AFTER = 3
_ENVIRONMENT = frozenset(c.name for c in CAUSES if c.environment)


@dataclass
class FailFast:
    """Watches results as they finish; `observe` returns why to start nothing more, once."""

    after: int = FAIL_FAST_AFTER
    _alike: dict[str, int] = field(default_factory=dict)
    _succeeded: bool = False
    reason: str = ""

    def observe(self, result: StackResult) -> str:
        if self.reason:
            return ""
        if result.status is Status.OK:
            self._succeeded = True
        if self._succeeded or result.status is not Status.FAILED:
            return ""
        if result.cause not in _ENVIRONMENT:
            return ""
        self._alike[result.cause] = self._alike.get(result.cause, 0) + 1
        if self._alike[result.cause] < self.after:
            return ""
        self.reason = (
            f"not started: the first {self.after} stacks failed alike ({result.cause}); "
            "--keep-going runs every stack anyway"
        )
        return self.reason
