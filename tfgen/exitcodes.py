"""The exit codes of every tfgen command, declared once.

0 success; 1 a problem the user can fix (invalid spec, failed stack, drift with --check, a usage
mistake); 2 "changes present" where a command documents it (--detailed-exitcode, verify, audit);
3 internal error (a bug: the message names a log to attach to a report); 130 interrupted.
Usage mistakes exit 1, never 2, so a typo in CI cannot pass for "changes".
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a tfgen process returns."""

    OK = 0
    ERROR = 1
    CHANGES = 2
    INTERNAL = 3
    INTERRUPTED = 130
