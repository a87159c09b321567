"""Benchmark: offline preview wall time per stack against the floor of importing the same modules.

For each stack, three commands run as fresh subprocesses, N times each, and the table shows medians:

* floor -- a bare interpreter that only imports what the preview cannot avoid: ``pulumi``, the
  ``pulumi_aws`` submodules the program uses, and the program's own modules (found by running the
  program once offline and reading ``sys.modules``), without running anything;
* program -- ``python -m offline_preview preview --stack S`` without a policy pack;
* gate -- the same with ``--policy-pack`` and ``--policy-pack-config``, as CI runs it.

Target: the gate within 2x the floor. Prints figures only; nothing here asserts a timing.

    python benchmarks/preview_walltime.py [--runs 5] [--stack dev=policy/config/sandbox.json ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROBE = r"""
import json, sys
sys.path.insert(0, {repo!r})
from offline_preview.runner import run_program
run = run_program({project!r}, {stack!r})
project = {project!r}
# pulumi_aws registers every service as a lazy module; only those the program touched were executed.
mods = sorted(m for m, mod in list(sys.modules.items())
              if m.startswith("pulumi_aws.") and m.count(".") == 1 and type(mod) is type(sys))
own = sorted(m for m, mod in list(sys.modules.items())
             if (getattr(mod, "__file__", None) or "").startswith(project) and m != "__main__")
print(json.dumps({{"aws": mods, "own": own, "error": repr(run.error) if run.error else None}}))
"""


def _time(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed with exit {result.returncode}:\n{result.stderr}")
    return elapsed


def floor_command(project: Path, stack: str) -> list[str]:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE.format(repo=str(REPO), project=str(project), stack=stack)],
        capture_output=True, text=True, check=True, cwd=project,
    )
    found = json.loads(probe.stdout.strip().splitlines()[-1])
    if found["error"]:
        raise SystemExit(f"the program fails for stack {stack}: {found['error']}")
    imports = ["pulumi", "pulumi.runtime", "pulumi_aws", *found["aws"], *found["own"]]
    # Touching an attribute executes a lazily registered module, as the program's first use does.
    code = (f"import importlib, sys; sys.path.insert(0, {str(project)!r})\n"
            f"for name in {imports!r}: getattr(importlib.import_module(name), '__all__', None)")
    return [sys.executable, "-c", code]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cwd", default=str(REPO), help="the Pulumi project (default: the repo root)")
    parser.add_argument("--policy-pack", default="policy")
    parser.add_argument("--stack", action="append", metavar="STACK[=CONFIG]",
                        help="a stack and its policy-pack config (default: dev=policy/config/sandbox.json "
                             "and prod=policy/config/hipaa.json)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    project = Path(args.cwd).resolve()
    stacks = args.stack or ["dev=policy/config/sandbox.json", "prod=policy/config/hipaa.json"]

    print(f"{'stack':<8}{'floor':>10}{'program':>10}{'gate':>10}{'gate/floor':>12}"
          f"   (median of {args.runs} runs, s)")
    for spec in stacks:
        stack, _, config = spec.partition("=")
        base = [sys.executable, "-m", "offline_preview", "preview", "--stack", stack, "--cwd", str(project),
                "--format", "json"]
        gate = base + ["--policy-pack", args.policy_pack]
        if config:
            gate += ["--policy-pack-config", config]
        floor = floor_command(project, stack)
        times: dict[str, list[float]] = {"floor": [], "program": [], "gate": []}
        for _ in range(args.runs):
            times["floor"].append(_time(floor, project))
            times["program"].append(_time(base, REPO))
            times["gate"].append(_time(gate, project if Path(args.policy_pack).is_absolute() else REPO))
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"{stack:<8}{med['floor']:>10.3f}{med['program']:>10.3f}{med['gate']:>10.3f}"
              f"{med['gate'] / med['floor']:>11.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
