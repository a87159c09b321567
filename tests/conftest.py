"""Import paths shared by every test: the repository root (offline_preview, components), policy/, and
this directory (helpers shared across test directories, such as ``pack_in_process``)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "policy"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
# Last, so that its subdirectories (policy/, program/ ...) never shadow a package of the same name.
if str(ROOT / "tests") not in sys.path:
    sys.path.append(str(ROOT / "tests"))
