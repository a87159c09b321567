"""Entry point for ``python -m offline_preview``; everything else lives in ``cli``."""

import gc
import os
import sys

# The Pulumi SDK, pulumi_aws and the program allocate a few hundred thousand long-lived objects
# (modules, classes, resources) and little cyclic garbage; at the default thresholds the collector
# rescans them hundreds of times, about a tenth of the command's CPU time. Collect less often.
gc.set_threshold(50_000, 20, 100)

from .cli import main  # noqa: E402 - after the collector is tuned, so that the imports benefit

code = main()
# Everything the command writes has been written (``--output`` files are closed, the pack stopped);
# the interpreter's own teardown of the Pulumi SDK, gRPC and the program's modules then takes longer
# than the whole policy step, so leave without it once stdout and stderr are flushed.
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
