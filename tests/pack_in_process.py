"""A Python policy pack served in the test's process, and the offline preview command run in-process.

For tests about policy outcomes rather than about processes and the gRPC transport: the pack's own
servicer answers the offline preview's engine steps directly, so a preview costs the program run and
the policies, not two interpreters and a gRPC server. Tests of the launch, the protocol and the
command line itself (``tests/preview/test_preview_analyzer.py``, ``test_preview_cli.py``,
``test_preview_real_stacks.py``) still run the real processes.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import io
import os
import runpy
import subprocess
import sys
import unittest.mock
from pathlib import Path
from typing import Any

import recorded
from pulumi.runtime.proto import analyzer_pb2

from offline_preview.pack_client import PolicyPackProcess
from offline_preview.pack_run import PackResult, run_policy_pack


class InProcessPack(PolicyPackProcess):
    """A Python policy pack served by its own servicer in this process instead of a subprocess.

    The pack's ``__main__.py`` is run with ``pulumi_policy.PolicyPack`` replaced by a recorder, and a
    servicer is built from exactly what it passed (as ``PolicyPack.__init__`` builds it, through the
    pack's ``servicer.install`` hook when it has one); the engine's steps (config reconciliation,
    ``Configure``, one ``Analyze`` per resource, ``AnalyzeStack``) are the offline preview's own. Only
    the gRPC transport and the process are left out: tests that are about them launch the real pack.
    """

    _built: dict[Path, tuple[type, dict]] = {}

    def __init__(self, pack_dir: str | Path, **kwargs: Any) -> None:
        super().__init__(pack_dir, **kwargs)
        servicer_class, pack_args = self._pack(self.path)
        self.servicer = servicer_class(**pack_args)

    @classmethod
    def _pack(cls, path: Path) -> tuple[type, dict]:
        if path not in cls._built:
            import pulumi_policy
            from pulumi_policy import policy as sdk

            recorded: dict[str, Any] = {}

            def record(name, policies, enforcement_level=None, initial_config=None, description=None,
                       display_name=None, readme=None, provider=None, tags=None, repository=None):
                recorded.update(
                    name=name, version="0.0.1", policies=policies,
                    enforcement_level=enforcement_level or pulumi_policy.EnforcementLevel.ADVISORY,
                    initial_config=initial_config, description=description, display_name=display_name,
                    readme=readme, provider=provider, tags=tags, repository=repository)

            original_pack, original_servicer = pulumi_policy.PolicyPack, sdk._PolicyAnalyzerServicer
            pulumi_policy.PolicyPack = record
            if str(path) not in sys.path:
                sys.path.insert(0, str(path))
            try:
                with unittest.mock.patch("gc.freeze"):
                    runpy.run_path(str(path / "__main__.py"), run_name="__main__")
                servicer_class = sdk._PolicyAnalyzerServicer  # what the pack installed, if anything
            finally:
                pulumi_policy.PolicyPack, sdk._PolicyAnalyzerServicer = original_pack, original_servicer
            cls._built[path] = (servicer_class, recorded)
        return cls._built[path]

    def spawn(self) -> None:
        pass

    def wait_ready(self) -> None:
        pass

    def close(self) -> None:
        pass

    @property
    def pid(self) -> int | None:
        return os.getpid()

    def _call(self, method: str, request: Any) -> Any:
        return getattr(self.servicer, method)(request, None)

    def configure_stack(self) -> None:
        self._call("ConfigureStack", analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=self.stack, project=self.project, organization="organization", dry_run=self.dry_run,
            config=self.config, config_secret_keys=self.secret_keys))

    def analyze_many(self, requests, window: int = 4) -> list:
        return [self._call("Analyze", r) for r in requests]

    def analyze_future(self, request: Any) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        try:
            future.set_result(self._call("Analyze", request))
        except Exception as exc:  # noqa: BLE001 - handed over as the future's outcome
            future.set_exception(exc)
        return future

    def analyze_result(self, future: concurrent.futures.Future) -> Any:
        return future.result()


def run_pack_in_process(run: Any, pack_dir: str | Path, config_file: str | Path | None = None) -> PackResult:
    """``run_policy_pack`` (the engine's steps: config reconciliation, ``Configure``, ``Analyze`` for every
    registration, ``AnalyzeStack``) with the pack served by ``InProcessPack``, configured for ``run``'s
    stack as ``run_policy_pack`` configures the process it launches."""
    process = InProcessPack(pack_dir, project=run.project.name, stack=run.stack,
                            config=dict(run.config.values), secret_keys=list(run.config.secret_keys),
                            dry_run=run.preview)
    return run_policy_pack(run, pack_dir, config_file, process=process)


def run_cli_in_process(*args: str, change: Any = None) -> subprocess.CompletedProcess[str]:
    """``run_cli`` without the subprocesses: the command's own ``main`` in this process, its packs
    ``InProcessPack``s, its program runs shared with the other tests of this process where the
    program is the repository's or a shipped fixture (``recorded.run_program``). Stdout and stderr are
    captured apart, as ``run_cli`` captures them. (The clean-up of event loops before interpreter
    teardown is left out: there is no teardown here.)

    ``change``, when given, is called with ``recorded.Changes`` on the program's run before the packs
    see it: the recorded real stack with one resource changed."""
    from offline_preview import cli

    def run_program(*a: Any, **k: Any) -> Any:
        run = recorded.run_program(*a, **k)  # a copy of its own
        if change is not None and run.error is None:
            change(recorded.Changes(run))
        return run

    def launch(pack_dir, run_config, project, stack, *, dry_run=True, timeout=60.0):
        return InProcessPack(pack_dir, project=project, stack=stack, config=dict(run_config.values),
                             secret_keys=list(run_config.secret_keys), dry_run=dry_run, timeout=timeout)

    out, err = io.StringIO(), io.StringIO()
    try:
        project_dir = Path(cli.build_parser().parse_args(list(args)).cwd).resolve()
    except SystemExit:  # a usage error: main reports it below
        project_dir = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            unittest.mock.patch.object(cli, "launch_pack", launch), \
            unittest.mock.patch.object(cli, "run_program", run_program), \
            unittest.mock.patch.object(cli, "_close_idle_event_loops", lambda: None), \
            _own_modules_first(project_dir):
        try:
            code = cli.main(list(args))
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 2
    return subprocess.CompletedProcess(["offline_preview", *args], code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _own_modules_first(project_dir: Path | None):
    """Set aside modules this process already imported under the names of the program's own top-level
    modules (e.g. the repository's ``components`` when the program is a fixture with a ``components``
    package of its own), as a fresh interpreter would not have them; put them back afterwards."""
    if project_dir is None or not project_dir.is_dir():
        yield
        return
    names = {p.stem if p.suffix == ".py" else p.name for p in project_dir.iterdir()
             if p.suffix == ".py" or (p / "__init__.py").exists()} - {"__main__"}
    own = str(project_dir) + os.sep
    saved = {k: m for k, m in sys.modules.items()
             if k.split(".")[0] in names and not (getattr(m, "__file__", None) or "").startswith(own)}
    for k in saved:
        del sys.modules[k]
    try:
        yield
    finally:
        sys.modules.update(saved)
