"""Benchmark: offline preview wall time per stack against the floor of importing the same modules.

For each stack, three commands run as fresh subprocesses, N times each, interleaved (after one untimed
round), and the table shows medians of wall time and of CPU time (user + system of the command and
the processes it waited for, such as the policy pack):

* floor -- a bare interpreter that only imports what the preview cannot avoid: ``pulumi``, the
  ``pulumi_aws`` submodules the program uses, and the program's own modules (found by running the
  program once offline and reading ``sys.modules``; installed packages are never counted as the
  program's own, even when the virtualenv sits inside the project), without running anything, and
  then leaves as the preview command leaves: ``os._exit`` once its output is flushed, without the
  interpreter's teardown of those modules (about 0.15 s, which the command does not pay either);
* program -- ``python -m offline_preview preview --stack S`` without a policy pack;
* gate -- the same with ``--policy-pack`` and ``--policy-pack-config``, as ``.ci/run`` runs it.

Both print the report as ``.ci/run`` and the README's main job do (``--format text``, the default);
``--format json`` measures the machine-readable report instead (its indented encoding takes a few
milliseconds more). Output goes to ``/dev/null``.

The floor with the interpreter's ordinary teardown (what this script measured before; it flatters
the ratio) is printed beside it. Target: the gate within 1.5x the floor.

Every command runs with the same bytecode cache: compiled modules are written to and read from a
temporary ``PYTHONPYCACHEPREFIX`` (warmed by the untimed round) whatever ``PYTHONDONTWRITEBYTECODE``
says, as on a developer's machine or a CI job after its first import; ``--no-bytecode-cache`` keeps
the environment as it is (without caches, every run also compiles the project's own modules). The
load average is printed before and after, since the machine may be shared. Prints figures only;
nothing here asserts a timing.

    python benchmarks/preview_walltime.py [--runs 5] [--stack dev=policy/config/sandbox.json ...]
        [--no-bytecode-cache] [--format text|json|markdown|sarif|junit]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
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


def _time(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of ``cmd``; CPU includes the processes it waited for."""
    cpu = _cpu()
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=env)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed with exit {result.returncode}:\n{result.stderr}")
    return elapsed, _cpu() - cpu


def floor_command(project: Path, stack: str, teardown: bool = False, env: dict[str, str] | None = None
                  ) -> list[str]:
    """The floor's command; ``teardown``: leave through the interpreter's ordinary shutdown."""
    probe = subprocess.run(
        [sys.executable, "-c", PROBE.format(repo=str(REPO), project=str(project), stack=stack)],
        capture_output=True, text=True, check=True, cwd=project, env=env,
    )
    found = json.loads(probe.stdout.strip().splitlines()[-1])
    if found["error"]:
        raise SystemExit(f"the program fails for stack {stack}: {found['error']}")
    imports = ["pulumi", "pulumi.runtime", "pulumi_aws", *found["aws"], *found["own"]]
    # Touching an attribute executes a lazily registered module, as the program's first use does.
    code = (f"import importlib, sys; sys.path.insert(0, {str(project)!r})\n"
            f"for name in {imports!r}: getattr(importlib.import_module(name), '__all__', None)\n")
    if not teardown:
        # As offline_preview's entry point leaves (cli.entry_point).
        code += "import os; sys.stdout.flush(); sys.stderr.flush(); os._exit(0)\n"
    return [sys.executable, "-c", code]


def bytecode_env(cache_dir: str | None) -> dict[str, str]:
    """The commands' environment: one bytecode cache in ``cache_dir`` for all of them, or as it is."""
    env = dict(os.environ)
    if cache_dir is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = cache_dir
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cwd", default=str(REPO), help="the Pulumi project (default: the repo root)")
    parser.add_argument("--policy-pack", default="policy")
    parser.add_argument("--stack", action="append", metavar="STACK[=CONFIG]",
                        help="a stack and its policy-pack config (default: dev=policy/config/sandbox.json "
                             "and prod=policy/config/hipaa.json)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--format", default="text", choices=("text", "json", "markdown", "sarif", "junit"),
                        help="the report format of the program and gate commands (default: text, as .ci/run)")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="run the commands in this environment as it is (no shared bytecode cache)")
    args = parser.parse_args(argv)
    project = Path(args.cwd).resolve()
    stacks = args.stack or ["dev=policy/config/sandbox.json", "prod=policy/config/hipaa.json"]

    with tempfile.TemporaryDirectory(prefix="preview-walltime-pycache-") as cache_dir:
        env = bytecode_env(None if args.no_bytecode_cache else cache_dir)
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"load average before: {load} on {os.cpu_count()} CPUs")
        if args.no_bytecode_cache:
            regime = ("as the environment has it (PYTHONDONTWRITEBYTECODE="
                      f"{os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r})")
        else:
            regime = "one cache for every command (PYTHONPYCACHEPREFIX), warmed by an untimed round"
        print(f"bytecode: {regime}")
        print(f"report format: {args.format}")
        print(f"{'stack':<8}{'floor':>8}{'program':>9}{'gate':>8}{'gate/floor':>12}   {'cpu: floor':>10}"
              f"{'program':>9}{'gate':>8}{'gate/floor':>12}   {'floor+teardown':>14}{'gate/that':>10}"
              f"   (median of {args.runs} runs, s)")
        for spec in stacks:
            stack, _, config = spec.partition("=")
            base = [sys.executable, "-m", "offline_preview", "preview", "--stack", stack, "--cwd",
                    str(project), "--format", args.format]
            gate = base + ["--policy-pack", args.policy_pack]
            if config:
                gate += ["--policy-pack-config", config]
            commands = {
                "floor": (floor_command(project, stack, env=env), project),
                "program": (base, REPO),
                "gate": (gate, project if Path(args.policy_pack).is_absolute() else REPO),
                "teardown": (floor_command(project, stack, teardown=True, env=env), project),
            }
            for cmd, cwd in commands.values():  # untimed: fills the bytecode cache and the page cache
                _time(cmd, cwd, env)
            times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
            for _ in range(args.runs):
                for name, (cmd, cwd) in commands.items():
                    times[name].append(_time(cmd, cwd, env))
            wall = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
            cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}
            print(f"{stack:<8}{wall['floor']:>8.3f}{wall['program']:>9.3f}{wall['gate']:>8.3f}"
                  f"{wall['gate'] / wall['floor']:>11.2f}x   {cpu['floor']:>10.3f}{cpu['program']:>9.3f}"
                  f"{cpu['gate']:>8.3f}{cpu['gate'] / cpu['floor']:>11.2f}x   {wall['teardown']:>14.3f}"
                  f"{wall['gate'] / wall['teardown']:>9.2f}x")
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"load average after:  {load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
