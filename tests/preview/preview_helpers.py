"""Helpers for the offline-preview tests (a module of its own so that no test imports a conftest):
fixture locations, running the real command in a subprocess, as a user or CI would, and running the
same command in this process with the policy pack served in-process (for tests about policy
outcomes rather than about processes and the gRPC transport)."""

from __future__ import annotations

import contextlib
import io
import os
import runpy
import subprocess
import sys
import unittest.mock
from pathlib import Path
from typing import Any

from pulumi.runtime.proto import analyzer_pb2

from offline_preview.analyzer import PolicyPackProcess, analyze_request

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PROGRAM = FIXTURES / "program"
PACK = FIXTURES / "pack"


def run_cli(*args: str, cwd: Path = REPO, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m offline_preview <args>`` from the repo root, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "offline_preview", *args], cwd=cwd, capture_output=True, text=True,
        timeout=timeout, env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def preview_args(program_dir: Path, *extra: str, pack_dir: Path | None = PACK,
                 stack: str = "dev") -> list[str]:
    args = ["preview", "--stack", stack, "--cwd", str(program_dir)]
    if pack_dir is not None:
        args += ["--policy-pack", str(pack_dir)]
    return args + list(extra)


# --- the same command in this process, with the pack served in-process ---------------------------------

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

    def analyze_many(self, records: list, window: int = 4) -> list:
        return [self._call("Analyze", analyze_request(r)) for r in records]


def run_cli_in_process(*args: str) -> subprocess.CompletedProcess[str]:
    """``run_cli`` without the subprocesses: the command's own ``preview`` in this process, its pack
    an ``InProcessPack``. Stdout and stderr are captured apart, as ``run_cli`` captures them."""
    from offline_preview import cli

    def launch(pack_dir, run_config, project, stack, *, dry_run=True, timeout=60.0):
        return InProcessPack(pack_dir, project=project, stack=stack, config=dict(run_config.values),
                             secret_keys=list(run_config.secret_keys), dry_run=dry_run, timeout=timeout)

    parsed = cli.build_parser().parse_args(list(args))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            unittest.mock.patch.object(cli, "launch_pack", launch):
        code = cli.preview(parsed)
    return subprocess.CompletedProcess(["offline_preview", *args], code, out.getvalue(), err.getvalue())
