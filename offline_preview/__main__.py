"""Entry point for ``python -m offline_preview``; everything else lives in ``cli``."""

import sys

from .cli import main

sys.exit(main())
