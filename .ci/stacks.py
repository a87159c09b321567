"""Print the stack -> pack-config map in .ci/stacks.json for a shell loop or a GitHub matrix.

``python .ci/stacks.py`` prints ``<stack> <config>`` lines; ``--matrix`` prints the JSON a workflow
gives to ``fromJSON`` (``{"include": [{"stack": ..., "profile": ...}]}``). Standard library only, so
CI can run it before installing anything.
"""

import json
import sys
from pathlib import Path

STACKS = json.loads((Path(__file__).resolve().parent / "stacks.json").read_text())["stacks"]

if __name__ == "__main__":
    if sys.argv[1:] == ["--matrix"]:
        print(json.dumps({"include": [{"stack": s, "profile": p} for s, p in STACKS.items()]}))
    else:
        for stack, profile in STACKS.items():
            print(stack, profile)
