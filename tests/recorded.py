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

from google.protobuf import struct_pb2

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
                timeout: float | None = runner.DEFAULT_PROGRAM_TIMEOUT,
                on_record: Any = None) -> runner.ProgramRun:
    """``offline_preview.runner.run_program``, shared across the tests of this process (see above). A
    shared run reports no registrations to ``on_record``: a policy step analyzes them all afterwards."""
    if state is not None or not shared(project_dir):
        return runner.run_program(project_dir, stack, overrides=overrides, preview=preview,
                                  stack_config=stack_config, state=state, timeout=timeout,
                                  on_record=on_record)
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


class Changes:
    """Changes made to one recorded run, each to one resource: the policy tests' way to break the real
    stack in one place. Inputs and their wire form (``properties``, what the pack reads) change
    together; resources are named by their Pulumi logical names."""

    def __init__(self, run: runner.ProgramRun) -> None:
        self.run = run

    def resource(self, name: str) -> runner.ResourceRecord:
        for record in self.run.resources:
            if record.name == name:
                return record
        raise KeyError(f"no resource named {name!r} in the recorded run; it has "
                       f"{sorted(r.name for r in self.run.resources)}")

    def set(self, name: str, *path: str | int, value: Any) -> None:
        """Set the input at ``path`` (keys and list indices) of resource ``name`` to ``value``."""
        holder, key = self._holder(name, path)
        holder[key] = value
        self._sync(name)

    def unset(self, name: str, *path: str | int) -> None:
        """Remove the input at ``path`` of resource ``name``, as if the program never set it."""
        holder, key = self._holder(name, path)
        del holder[key]
        self._sync(name)

    def edit_document(self, name: str, key: str, edit: Any) -> None:
        """Change the JSON policy document in input ``key`` of ``name``: ``edit(statements)`` changes the
        list of statements in place."""
        document = json.loads(self.resource(name).inputs[key])
        edit(document["Statement"])
        self.set(name, key, value=json.dumps(document, indent=2))

    def drop(self, name: str) -> None:
        """Remove resource ``name``, as if the program never declared it."""
        self.run.resources.remove(self.resource(name))

    def add(self, like: str, name: str, *, type: str | None = None, inputs: dict[str, Any] | None = None,
            property_dependencies: dict[str, list[str]] | None = None) -> runner.ResourceRecord:
        """Declare resource ``name`` next to ``like`` (same parent and provider): a copy of ``like`` with
        the inputs given, or of a resource of another ``type`` with its own inputs."""
        template = self.resource(like)
        record = copy.deepcopy(template)
        record.name = name
        qualified = template.urn.rsplit("::", 1)[0]
        if type is not None:
            record.type = type
            qualified = qualified.rsplit("$", 1)[0] + "$" + type
            record.inputs, record.property_dependencies, record.dependencies = {}, {}, []
            record.protect = False
        record.urn = f"{qualified}::{name}"
        record.inputs.update(inputs or {})
        record.property_dependencies.update(property_dependencies or {})
        record.dependencies = sorted({u for urns in record.property_dependencies.values() for u in urns})
        self.run.resources.append(record)
        self._sync(name)
        return record

    def _holder(self, name: str, path: tuple[str | int, ...]) -> tuple[Any, str | int]:
        holder: Any = self.resource(name).inputs
        for segment in path[:-1]:
            holder = holder[segment]
        return holder, path[-1]

    def _sync(self, name: str) -> None:
        # As the runner makes them: the wire form of the inputs (values unknown during preview keep
        # their sentinel string), and the outputs AnalyzeStack sees, which a previewed create echoes.
        record = self.resource(name)
        record.properties = struct_pb2.Struct()
        record.properties.update(record.inputs)
        if record.custom:
            if record.op != "create":
                raise ValueError(f"{name} is a {record.op} step; change a run previewed without --state")
            record.outputs = copy.deepcopy(record.inputs)
