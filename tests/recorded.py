"""Program runs shared by every test of one process (one xdist worker), across test directories.

A program run under the mock runtime is deterministic for a given program, stack config and mode
(preview or not), and costs 0.1-0.2 s of CPU; the same real stack (prod, dev, a variant) is run by
the program tests, the in-process command, the policy tests and the conformance tests. ``run_program``
here is the runner's, run once per (program directory, stack, config the program receives, secret
keys, mode) and handed to each caller as its own deep copy, so no test sees another's changes (the
command's ``make_stable`` reorders a run in place, for instance).

Only the repository's program and the shipped fixture programs are shared: tests never write to them
(a test that changes a program works on a private copy, see ``tests/preview/conftest.py``). A run
planned against a ``--state`` export, and a run that failed, are never shared (a failed run is cheap:
it stops at the config checks).
"""

from __future__ import annotations

import copy
import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

from offline_preview import runner
from offline_preview.project import StackConfig, load_project, load_stack_config

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "preview" / "fixtures"
_KEPT = 48  # runs kept per process, least recently used dropped first

_runs: OrderedDict[tuple, runner.ProgramRun] = OrderedDict()


def shared(project_dir: str | Path) -> bool:
    """Whether runs of the program in ``project_dir`` may be shared: the repository's own program or a
    shipped fixture program."""
    directory = Path(project_dir).resolve()
    return directory == ROOT or directory.parent == FIXTURES


def run_program(project_dir: str | Path, stack: str, *, overrides: dict[str, Any] | None = None,
                preview: bool = True, stack_config: StackConfig | None = None, state: Any = None,
                timeout: float | None = runner.DEFAULT_PROGRAM_TIMEOUT) -> runner.ProgramRun:
    """``offline_preview.runner.run_program``, shared across the tests of this process (see above)."""
    if state is not None or not shared(project_dir):
        return runner.run_program(project_dir, stack, overrides=overrides, preview=preview,
                                  stack_config=stack_config, state=state, timeout=timeout)
    # As run_program reads them (a ProjectError from reading them is raised the same way).
    config = stack_config or load_stack_config(load_project(project_dir), stack, overrides)
    key = (str(Path(project_dir).resolve()), stack, preview, json.dumps(config.values, sort_keys=True),
           tuple(config.secret_keys))
    run = _runs.get(key)
    if run is None:
        run = runner.run_program(project_dir, stack, preview=preview, stack_config=config, timeout=timeout)
        if run.error is not None:
            return run
        _runs[key] = run
        if len(_runs) > _KEPT:
            _runs.popitem(last=False)
    else:
        _runs.move_to_end(key)
    return copy.deepcopy(run)
