"""Benchmark: offline preview wall time per stack against the floor of importing the same modules.

For each stack, three commands run as fresh subprocesses, N times each, interleaved, and the table
shows medians of wall time and of CPU time (user + system of the command and the processes it waited
for, such as the policy pack):

* floor -- a bare interpreter that only imports what the preview cannot avoid: ``pulumi``, the
  ``pulumi_aws`` submodules the program uses, and the program's own modules (found by running the
  program once offline and reading ``sys.modules``; installed packages are never counted as the
  program's own, even when the virtualenv sits inside the project), without running anything;
* program -- ``python -m offline_preview preview --stack S`` without a policy pack;
* gate -- the same with ``--policy-pack`` and ``--policy-pack-config``, as CI runs it.

Target: the gate within 1.5x the floor. The load average is printed before and after, since the
machine may be shared. Prints figures only; nothing here asserts a timing.

    python benchmarks/preview_walltime.py [--runs 5] [--stack dev=policy/config/sandbox.json ...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROBE = r"""
import json, os, site, sys, sysconfig
sys.path.insert(0, {repo!r})
from offline_preview.runner import run_program
run = run_program({project!r}, {stack!r})
project = os.path.join({project!r}, "")
# Installed packages are not the program's own, wherever the virtualenv lives (.venv in the project),
# and neither is the offline preview that ran it.
paths = sysconfig.get_paths()
prefixes = {{sys.prefix, sys.base_prefix, paths["purelib"], paths["platlib"], *site.getsitepackages()}}
installed = tuple(os.path.join(p, "") for p in prefixes)
def own_file(path):
    return path.startswith(project) and not path.startswith(installed) and "site-packages" not in path
# pulumi_aws registers every service as a lazy module; only those the program touched were executed.
mods = sorted(m for m, mod in list(sys.modules.items())
              if m.startswith("pulumi_aws.") and m.count(".") == 1 and type(mod) is type(sys))
own = sorted(m for m, mod in list(sys.modules.items())
             if own_file(getattr(mod, "__file__", None) or "") and m != "__main__"
             and not m.startswith("offline_preview"))
print(json.dumps({{"aws": mods, "own": own, "error": repr(run.error) if run.error else None}}))
"""


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of ``cmd``; CPU includes the processes it waited for."""
    cpu = _cpu()
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed with exit {result.returncode}:\n{result.stderr}")
    return elapsed, _cpu() - cpu


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

    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average before: {load} on {os.cpu_count()} CPUs")
    print(f"{'stack':<8}{'floor':>8}{'program':>9}{'gate':>8}{'gate/floor':>12}   {'cpu: floor':>10}"
          f"{'program':>9}{'gate':>8}{'gate/floor':>12}   (median of {args.runs} runs, s)")
    for spec in stacks:
        stack, _, config = spec.partition("=")
        base = [sys.executable, "-m", "offline_preview", "preview", "--stack", stack, "--cwd", str(project),
                "--format", "json"]
        gate = base + ["--policy-pack", args.policy_pack]
        if config:
            gate += ["--policy-pack-config", config]
        floor = floor_command(project, stack)
        times: dict[str, list[tuple[float, float]]] = {"floor": [], "program": [], "gate": []}
        for _ in range(args.runs):
            times["floor"].append(_time(floor, project))
            times["program"].append(_time(base, REPO))
            times["gate"].append(_time(gate, project if Path(args.policy_pack).is_absolute() else REPO))
        wall = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
        cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}
        print(f"{stack:<8}{wall['floor']:>8.3f}{wall['program']:>9.3f}{wall['gate']:>8.3f}"
              f"{wall['gate'] / wall['floor']:>11.2f}x   {cpu['floor']:>10.3f}{cpu['program']:>9.3f}"
              f"{cpu['gate']:>8.3f}{cpu['gate'] / cpu['floor']:>11.2f}x")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average after:  {load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
