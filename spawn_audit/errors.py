"""The exit codes every ``spawn_audit`` subcommand shares, and the error a user's mistake raises.

Modelled on ``aws cloudtrail validate-logs`` and ``ruff``: 0 success, 1 the thing checked failed
(a finding), 2 the tool could not do its job (usage, unreadable input, an API error).
"""

from __future__ import annotations

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """A user mistake: printed as one ``error:`` line (never a traceback), exit 2.

    The message names the input, the value and what is allowed.
    """
