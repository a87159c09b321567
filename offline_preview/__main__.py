"""Entry point for ``python -m offline_preview`` and the ``offline-preview`` console script.

The signal handlers go in before the heavy imports (grpc, pulumi), so that Ctrl-C or a CI
cancellation during start-up also ends with one line and 130/143/129 instead of a traceback;
``cli`` replaces them with handlers that also stop the policy packs.
"""

import gc
import os
import signal
import sys

_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}


def _interrupted_while_starting(signum: int, _frame: object) -> None:
    sys.stderr.write(f"error: interrupted by {signal.Signals(signum).name} while starting\n")
    os._exit(_CODES[signum])


def main() -> None:
    for sig in _CODES:
        signal.signal(sig, _interrupted_while_starting)
    # The Pulumi SDK, pulumi_aws and the program allocate a few hundred thousand long-lived objects
    # (modules, classes, resources) and little cyclic garbage; at the default thresholds the collector
    # rescans them hundreds of times, about a tenth of the command's CPU time. Collect less often.
    gc.set_threshold(50_000, 20, 100)
    from .cli import entry_point

    entry_point()


if __name__ == "__main__":
    main()
