"""The pack client: launch a policy pack the way the Pulumi CLI does, talk to it, stop it.

The CLI starts a Python policy pack as ``python -u -m pulumi.policy <engine-address> <pack-dir>``
(cwd = the pack, ``PULUMI_PROJECT``/``PULUMI_STACK``/``PULUMI_DRY_RUN``/``PULUMI_CONFIG`` set, the
interpreter chosen from ``PulumiPolicy.yaml``), reads the gRPC port from the first line the pack
prints, and talks to its Analyzer service on 127.0.0.1 (pulumi/pkg/resource/plugin/
analyzer_plugin.go). ``PolicyPackProcess`` does the same, keeps draining the pack's stdout, keeps its
stderr for error messages, puts a deadline on every call, and always ends the process; the calls
(``GetAnalyzerInfo``, ``Configure``, ``ConfigureStack``, ``Analyze``, ``AnalyzeStack``) carry the
messages the engine's analyzer plugin sends. ``terminate_live_processes`` ends every pack still
running when the preview is interrupted.

It serves the compliance gate: the pack answers here exactly as it would answer ``pulumi preview
--policy-pack``, and a pack that cannot start or stops answering is an error, never a pass.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import grpc
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from .config_check import ConfigCheck
from .pack_config import PackInfo, PolicyConfig, PolicyError, PolicyInfo, reconcile_config

LEVEL_TO_PROTO = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "remediate": analyzer_pb2.REMEDIATE,
    "disabled": analyzer_pb2.DISABLED,
}
PROTO_TO_LEVEL = {v: k for k, v in LEVEL_TO_PROTO.items()}
SEVERITIES = {0: None, 1: "low", 2: "medium", 3: "high", 4: "critical"}
_GRPC_OPTIONS = [
    ("grpc.max_receive_message_length", 400 * 1024 * 1024),
    ("grpc.max_send_message_length", 400 * 1024 * 1024),
    # The pack listens on 127.0.0.1 only; never route that through an HTTP proxy from the environment.
    ("grpc.enable_http_proxy", 0),
]


def pack_info_from_proto(info: analyzer_pb2.AnalyzerInfo, path: Path, display_path: str) -> PackInfo:
    """What ``GetAnalyzerInfo`` answered, as the engine reads it."""
    policies = []
    for p in info.policies:
        schema = None
        if p.HasField("configSchema"):
            schema = {"properties": json_format.MessageToDict(p.configSchema.properties),
                      "required": list(p.configSchema.required)}
        framework = {}
        if p.HasField("framework"):
            framework = {k: v for k, v in json_format.MessageToDict(
                p.framework, preserving_proto_field_name=True).items() if v}
        policies.append(PolicyInfo(
            name=p.name, description=p.description,
            enforcement_level=PROTO_TO_LEVEL.get(p.enforcementLevel, "advisory"),
            config_schema=schema,
            policy_type={1: "resource", 2: "stack"}.get(p.policy_type, "unknown"),
            display_name=p.displayName, severity=SEVERITIES.get(p.severity),
            remediation_steps=p.remediation_steps, url=p.url, tags=list(p.tags), framework=framework,
        ))
    initial = {}
    for key, cfg in info.initialConfig.items():
        entry = json_format.MessageToDict(cfg.properties)
        # As the engine converts it: an entry without a level arrives as 0, i.e. advisory.
        entry["enforcementLevel"] = PROTO_TO_LEVEL.get(cfg.enforcementLevel, "advisory")
        initial[key] = entry
    return PackInfo(
        name=info.name, version=pack_version(path, info.version), display_name=info.displayName,
        description=info.description, policies=policies, initial_config=initial, path=path,
        display_path=display_path,
    )


def _to_struct(values: dict[str, Any]) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(values)
    return result


def _unused_port() -> int:
    """An engine address to pass along; the Python policy host ignores it, as the CLI's does not."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pack_version(pack_dir: Path, reported: str) -> str:
    """The CLI takes a Python pack's version from PulumiPolicy.yaml; the SDK always reports 0.0.1."""
    meta = pack_dir / "PulumiPolicy.yaml"
    try:
        data = yaml.safe_load(meta.read_text(encoding="utf-8")) if meta.exists() else None
    except (OSError, yaml.YAMLError):
        data = None
    if isinstance(data, dict) and data.get("version") not in (None, ""):
        return str(data["version"]).lstrip("v")
    return reported


# Every pack process spawned and not yet closed, so that a signal handler can end them all.
LIVE_PROCESSES: set[PolicyPackProcess] = set()


def _child_pids() -> set[int]:
    """This process's children, as Linux lists them; catches a pack forked a moment before its
    ``PolicyPackProcess`` recorded it. Empty where /proc has no children lists."""
    pids: set[int] = set()
    for children in Path("/proc/self/task").glob("*/children"):
        try:
            pids.update(int(pid) for pid in children.read_text().split())
        except (OSError, ValueError):
            continue
    return pids


def terminate_live_processes(grace: float = 2.0) -> None:
    """End every pack this process started and its config checker (SIGTERM, then SIGKILL after
    ``grace`` seconds), and reap them, so that none outlives the preview. Only ever used on the way out
    (a signal handler): the program runs in this process, so any child is a pack or a checker."""
    pids = {p.process.pid for p in list(LIVE_PROCESSES) if p.process is not None} | _child_pids()
    pids |= {p._config_check.process.pid for p in list(LIVE_PROCESSES)
             if p._config_check is not None and p._config_check.process is not None}
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while pids and time.monotonic() < deadline:
        for pid in list(pids):
            try:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    pids.discard(pid)
            except ChildProcessError:  # already reaped, or not ours
                pids.discard(pid)
        time.sleep(0.01)
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def pack_interpreter(pack_dir: str | Path) -> list[str]:
    """The interpreter the Pulumi CLI starts a Python pack with. The CLI passes each runtime option of
    ``PulumiPolicy.yaml`` to its ``pulumi-analyzer-policy-python`` launcher as ``-<name>=<value>``
    (analyzer_plugin.go, NewPolicyAnalyzer); with ``virtualenv`` the launcher runs that virtualenv's
    ``python`` (relative to the pack directory), without it ``python3`` from PATH."""
    pack_dir = Path(pack_dir)
    try:
        meta = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        meta = None
    runtime = meta.get("runtime") if isinstance(meta, dict) else None
    options = runtime.get("options") if isinstance(runtime, dict) else None
    virtualenv = options.get("virtualenv") if isinstance(options, dict) else None
    if virtualenv:
        venv = Path(virtualenv) if Path(virtualenv).is_absolute() else pack_dir / virtualenv
        scripts = "Scripts" if os.name == "nt" else "bin"
        return [str(venv / scripts / ("python.exe" if os.name == "nt" else "python"))]
    return [shutil.which("python3") or "python3"]


def configure_request(config: dict[str, PolicyConfig], pack_name: str = "",
                      display_path: str = "") -> analyzer_pb2.ConfigureAnalyzerRequest:
    """``Configure`` as the engine's analyzer plugin sends it: every entry with its level and a
    properties Struct, empty when the policy has none (``structpb.NewStruct(nil)``); a Node.js pack
    fails on an entry whose properties are absent. An entry without a level is the engine's error
    (``pack_name`` and ``display_path`` name the pack in it)."""
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, cfg in config.items():
        if cfg.enforcement_level not in LEVEL_TO_PROTO:
            raise PolicyError(
                f"configuring policy pack \"{pack_name}\" at \"{display_path}\": invalid "
                f"enforcement level {json.dumps(cfg.enforcement_level)} (the entry \"{name}\" has no "
                "enforcementLevel and the pack has no policy of that name to take one from)"
            )
        entry = request.policyConfig[name]
        entry.enforcementLevel = LEVEL_TO_PROTO[cfg.enforcement_level]
        entry.properties.CopyFrom(_to_struct(cfg.properties))
    return request


class PolicyPackProcess:
    """One running policy pack; use as a context manager so the process always ends."""

    def __init__(self, pack_dir: str | Path, *, project: str, stack: str,
                 config: dict[str, str] | None = None, secret_keys: list[str] | None = None,
                 dry_run: bool = True, timeout: float = 60.0) -> None:
        self.display_path = str(pack_dir)
        self.path = Path(pack_dir).resolve()
        self.project = project
        self.stack = stack
        self.config = config or {}
        self.secret_keys = secret_keys or []
        self.dry_run = dry_run
        self.timeout = timeout
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        self.channel: grpc.Channel | None = None
        self.stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._stderr = None
        self._stdout_lines: list[str] = []
        self._first_line: queue.Queue[str] = queue.Queue()
        self._spawned_at = 0.0
        self._policy_names: list[str] = []
        # Whether ``reconcile`` runs the engine's config check in a process of its own (as the
        # preview's ``launch_pack`` asks) or in this one.
        self.check_config_apart = False
        self._config_check: ConfigCheck | None = None

    # -- lifecycle --------------------------------------------------------------------------------

    def __enter__(self) -> PolicyPackProcess:
        try:
            self.start()  # waits for a pack already launched, launches one otherwise
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Launch the pack and wait until its Analyzer answers."""
        self.spawn()
        self.wait_ready()

    def spawn(self) -> None:
        """Launch the pack without waiting, so that it can start while the program runs. A pack that
        is already launched is kept (``start`` after ``spawn`` launches nothing more)."""
        if self.process is not None:
            return
        if not self.path.is_dir():
            what = "is not a directory" if self.path.exists() else "does not exist"
            raise PolicyError(f"policy pack directory {self.display_path} {what}; allowed: the directory "
                              "that holds the pack's PulumiPolicy.yaml")
        if not (self.path / "__main__.py").exists():
            raise PolicyError(
                f"policy pack {self.display_path} has no __main__.py; only Python policy packs run offline"
            )
        env = dict(os.environ)
        env.update({
            "PULUMI_PROJECT": self.project,
            "PULUMI_STACK": self.stack,
            "PULUMI_DRY_RUN": "true" if self.dry_run else "false",
            "PULUMI_CONFIG": json.dumps(self.config),
            "PULUMI_CONFIG_SECRET_KEYS": json.dumps(self.secret_keys),
            "PYTHONUNBUFFERED": "1",
        })
        # The interpreter the CLI would use when it exists (the pack's virtualenv, set up as the README
        # says); otherwise this one, which has the preview's pinned requirements.
        interpreter = pack_interpreter(self.path)[0]
        if not (Path(interpreter).parent.parent / "pyvenv.cfg").exists():
            interpreter = sys.executable
        self.launch([interpreter, "-u", "-m", "pulumi.policy", f"127.0.0.1:{_unused_port()}", str(self.path)],
                    env)

    def launch(self, args: list[str], env: dict[str, str]) -> None:
        """Start ``args`` in the pack directory as the CLI starts a policy plugin, without waiting:
        stdout is read on a thread (its first line is the port ``wait_ready`` reads), stderr is kept
        for error messages. A pack in another language is launched by overriding ``spawn`` to call
        this with its own command line."""
        self._stderr = tempfile.TemporaryFile(mode="w+b")
        self.process = subprocess.Popen(
            args, cwd=self.path, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        LIVE_PROCESSES.add(self)
        self._spawned_at = time.monotonic()
        first_line: queue.Queue[str] = queue.Queue()
        self._first_line = first_line

        def pump() -> None:
            # Keep draining stdout so that a chatty policy can never block on a full pipe.
            assert self.process is not None and self.process.stdout is not None
            first = True
            for raw in iter(self.process.stdout.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if first:
                    first_line.put(line)
                    first = False
                else:
                    self._stdout_lines.append(line)
            if first:
                first_line.put("")

        threading.Thread(target=pump, name="policy-pack-stdout", daemon=True).start()

    def wait_ready(self) -> None:
        """Read the port from the pack's first stdout line and connect to it on 127.0.0.1."""
        if self.stub is not None:
            return
        if self.process is None:
            self.spawn()
        assert self.process is not None
        first_line = self._first_line
        deadline = self._spawned_at + self.timeout
        line = None
        while line is None:
            try:
                line = first_line.get(timeout=0.05)
            except queue.Empty:
                if self.process is None:  # closed meanwhile, from another thread
                    raise PolicyError(
                        f"policy pack {self.display_path} was stopped before it started") from None
                if time.monotonic() > deadline:
                    raise PolicyError(
                        f"policy pack {self.display_path} did not print its port within "
                        f"{self.timeout:g}s{self._stderr_tail()}"
                    ) from None
        if self.process is None:
            raise PolicyError(f"policy pack {self.display_path} was stopped before it started")
        if not line.strip().isdigit():
            self._wait_briefly()
            code = self.process.poll() if self.process is not None else None
            status = f"exited with code {code}" if code is not None else "printed no port"
            shown = f"; it printed {line!r}" if line else ""
            raise PolicyError(f"policy pack {self.display_path} {status}{shown}{self._stderr_tail()}")
        self.port = int(line.strip())
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}", options=_GRPC_OPTIONS)
        try:
            grpc.channel_ready_future(self.channel).result(timeout=max(1.0, deadline - time.monotonic()))
        except grpc.FutureTimeoutError:
            raise PolicyError(
                f"policy pack {self.display_path} printed port {self.port} but does not answer on "
                f"127.0.0.1{self._stderr_tail()}"
            ) from None
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def _wait_briefly(self) -> None:
        if self.process is not None:
            try:
                self.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass

    def stderr_text(self) -> str:
        if self._stderr is None:
            return ""
        try:
            self._stderr.flush()
            self._stderr.seek(0)
            return self._stderr.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def _stderr_tail(self, limit: int = 4000) -> str:
        text = self.stderr_text().strip()
        if not text:
            return ""
        if len(text) > limit:
            text = "...\n" + text[-limit:]
        return "; its stderr:\n" + text

    def close(self) -> None:
        if self._config_check is not None:
            self._config_check.close()
        proc, self.process = self.process, None
        LIVE_PROCESSES.discard(self)
        if proc is not None and proc.poll() is None:
            # The SDK's server sleeps forever; SIGTERM ends it, SIGKILL if it lingers.
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.channel is not None:
            # Closed after the server is gone: closing a channel to a live server waits ~0.2 s.
            self.channel.close()
            self.channel = None
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    # -- protocol ---------------------------------------------------------------------------------

    def _call(self, method: str, request: Any) -> Any:
        assert self.stub is not None, "start() first"
        try:
            return getattr(self.stub, method)(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise PolicyError(
                    f"policy pack {self.display_path} did not answer {method} within {self.timeout:g}s"
                    f"{self._stderr_tail()}") from None
            details = exc.details() if hasattr(exc, "details") else str(exc)
            raise PolicyError(
                f"policy pack {self.display_path}: {method} failed ({code.name if code else 'error'}): "
                f"{details}{self._stderr_tail()}"
            ) from None

    def get_info(self) -> PackInfo:
        info = self._call("GetAnalyzerInfo", empty_pb2.Empty())
        pack = pack_info_from_proto(info, self.path, self.display_path)
        self._policy_names = [p.name for p in pack.policies]
        return pack

    def reconcile(self, pack: PackInfo, user_config: dict[str, tuple[str | None, dict[str, Any]]],
                  source: str) -> dict[str, PolicyConfig]:
        """``pack_config.reconcile_config`` for this pack: in a checker process started now, while the
        pack waits for ``Configure`` and the program runs here (``check_config_apart``), or
        in this process."""
        if self.check_config_apart:
            # Kept so that close() and the signal handler can end it, should the preview stop first;
            # its reconcile ends it in any case.
            self._config_check = ConfigCheck()
            return self._config_check.reconcile(pack, user_config, source, timeout=self.timeout)
        return reconcile_config(pack, user_config, source)

    def configure(self, config: dict[str, PolicyConfig], pack_name: str = "") -> None:
        """``Configure`` with ``config`` (see ``configure_request``)."""
        self._call("Configure", configure_request(config, pack_name, self.display_path))

    def configure_stack(self) -> None:
        """Optional in the protocol; a pack built on an SDK without it is fine."""
        request = analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=self.stack, project=self.project, organization="organization", dry_run=self.dry_run,
            config=self.config, config_secret_keys=self.secret_keys,
        )
        assert self.stub is not None
        try:
            self.stub.ConfigureStack(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise PolicyError(
                    f"policy pack {self.display_path}: ConfigureStack failed: {exc.details()}") from None

    def analyze(self, request: analyzer_pb2.AnalyzeRequest) -> analyzer_pb2.AnalyzeResponse:
        return self._call("Analyze", request)

    def analyze_future(self, request: analyzer_pb2.AnalyzeRequest) -> Any:
        """``Analyze`` sent now, not waited for; ``analyze_result`` of what this returns is the answer."""
        assert self.stub is not None, "start() first"
        return self.stub.Analyze.future(request, timeout=self.timeout)

    def analyze_result(self, future: Any) -> analyzer_pb2.AnalyzeResponse:
        """The answer to an ``analyze_future`` call, or its failure as a ``PolicyError``."""
        try:
            return future.result()
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise PolicyError(
                    f"policy pack {self.display_path} did not answer Analyze within {self.timeout:g}s"
                    f"{self._stderr_tail()}") from None
            raise PolicyError(
                f"policy pack {self.display_path}: Analyze failed ({exc.code().name}): "
                f"{exc.details()}{self._stderr_tail()}"
            ) from None

    def analyze_many(self, requests: Iterable[analyzer_pb2.AnalyzeRequest], window: int = 4
                     ) -> list[analyzer_pb2.AnalyzeResponse]:
        """``Analyze`` for each request, responses in request order. Up to ``window`` calls are in
        flight at once, as the engine's parallel steps do; the SDK serves them on 4 threads. The
        requests are taken one at a time, so a generator builds each only as it is sent."""
        pending: collections.deque = collections.deque()
        responses: list[analyzer_pb2.AnalyzeResponse] = []

        def collect() -> None:
            future = pending.popleft()
            try:
                responses.append(self.analyze_result(future))
            except PolicyError:
                for other in pending:
                    other.cancel()
                raise

        for request in requests:
            pending.append(self.analyze_future(request))
            if len(pending) >= window:
                collect()
        while pending:
            collect()
        return responses

    def analyze_stack(self, request: analyzer_pb2.AnalyzeStackRequest) -> analyzer_pb2.AnalyzeResponse:
        return self._call("AnalyzeStack", request)

    def plugin_version(self) -> str:
        return self._call("GetPluginInfo", empty_pb2.Empty()).version


def launch_pack(pack_dir: str | Path, run_config: Any, project: str, stack: str, *, dry_run: bool = True,
                timeout: float = 60.0) -> PolicyPackProcess:
    """Spawn a pack for ``stack`` now (it boots while the program runs); ``pack_run.run_policy_pack``
    takes it."""
    process = PolicyPackProcess(pack_dir, project=project, stack=stack, config=dict(run_config.values),
                                secret_keys=list(run_config.secret_keys), dry_run=dry_run, timeout=timeout)
    try:
        if process.path.is_dir() and (process.path / "__main__.py").exists():
            process.spawn()
            process.check_config_apart = True
    except BaseException:
        process.close()
        raise
    return process


__all__ = [
    "LEVEL_TO_PROTO", "LIVE_PROCESSES", "PROTO_TO_LEVEL", "SEVERITIES", "PolicyPackProcess",
    "configure_request", "launch_pack", "pack_info_from_proto", "pack_interpreter", "pack_version",
    "terminate_live_processes",
]
