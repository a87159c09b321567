"""The engine's check of a policy-pack config, in a process of its own.

The Pulumi CLI reconciles and validates a pack's config in the engine, a process apart from the
program's language host. The offline preview plays both parts in one interpreter, where loading the
JSON Schema validator (``jsonschema``'s import alone is about 50 ms) and validating would compete
with the program for that interpreter. So a pack launched by the preview (``pack_client.launch_pack``)
has its config checked here: once the pack has described itself (``GetAnalyzerInfo``), this checker
starts, loads the validator on another CPU while the program runs and the pack waits for its
``Configure``, and answers one request, the pack's description and the user's config, with exactly what
``pack_config.reconcile_config`` gives there: the config per policy, or the engine's error text. A
checker that cannot answer (it failed to start, died, or answered something else) is replaced by the
same call in the preview's own process, so the result never depends on it; one that does not answer
within the pack's time-out is an error, as a pack that stops answering is.

One JSON document each way over stdin and stdout:

* request: ``{"pack": {"name", "version", "policies": [{"name", "enforcement_level",
  "config_schema"}], "initial_config"}, "user_config": {name: [level or null, properties]},
  "source": str}``;
* answer: ``{"config": {name: [level, properties]}}`` or ``{"error": message}``.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from .pack_config import PackInfo, PolicyConfig, PolicyError, PolicyInfo, reconcile_config

_ROOT = str(Path(__file__).resolve().parent.parent)  # where ``offline_preview`` is importable from
_SERVE = f"import sys; sys.path.insert(0, {_ROOT!r}); from offline_preview.config_check import serve; serve()"


def _request(pack: PackInfo, user_config: dict[str, tuple[str | None, dict[str, Any]]], source: str) -> bytes:
    return json.dumps({
        "pack": {
            "name": pack.name, "version": pack.version, "initial_config": pack.initial_config,
            "policies": [{"name": p.name, "enforcement_level": p.enforcement_level,
                          "config_schema": p.config_schema} for p in pack.policies],
        },
        "user_config": {name: [level, props] for name, (level, props) in user_config.items()},
        "source": source,
    }).encode()


def _answer(request: dict[str, Any]) -> dict[str, Any]:
    """What ``reconcile_config`` gives for a request, as the answer document."""
    given = request["pack"]
    pack = PackInfo(
        name=given["name"], version=given["version"], display_name="", description="",
        policies=[PolicyInfo(name=p["name"], description="", enforcement_level=p["enforcement_level"],
                             config_schema=p["config_schema"], policy_type="unknown")
                  for p in given["policies"]],
        initial_config=given["initial_config"], path=Path("."), display_path="",
    )
    user_config = {name: (level, props) for name, (level, props) in request["user_config"].items()}
    try:
        config = reconcile_config(pack, user_config, request["source"])
    except PolicyError as exc:
        return {"error": str(exc)}
    return {"config": {name: [c.enforcement_level, c.properties] for name, c in config.items()}}


def serve() -> None:
    """The checker's side: load the validator, answer the one request on stdin, leave."""
    import jsonschema  # noqa: F401 - loaded now, while the preview's program runs

    raw = sys.stdin.buffer.read()
    if not raw:
        return  # the preview ended (or chose not to ask) before its request
    sys.stdout.write(json.dumps(_answer(json.loads(raw))))
    sys.stdout.flush()


class ConfigCheck:
    """A checker process, started when it is created; ``reconcile`` asks it once and it leaves."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None  # none: reconcile runs in this process
        with contextlib.suppress(OSError):
            self.process = subprocess.Popen(
                [sys.executable, "-c", _SERVE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, cwd=_ROOT,  # never the project's directory: no module of its own
            )

    def reconcile(self, pack: PackInfo, user_config: dict[str, tuple[str | None, dict[str, Any]]],
                  source: str, timeout: float = 60.0) -> dict[str, PolicyConfig]:
        """``reconcile_config(pack, user_config, source)``, answered by the checker when it can."""
        process = self.process
        answer = None
        if process is not None:
            try:
                out, _ = process.communicate(_request(pack, user_config, source), timeout=timeout)
                if process.returncode == 0:
                    answer = json.loads(out)
            except subprocess.TimeoutExpired:
                raise PolicyError(
                    f"the policy pack config check did not finish within {timeout:g}s") from None
            except (OSError, ValueError):
                pass  # no answer: the call below gives it
            finally:
                self.close()
        if not isinstance(answer, dict) or not ("error" in answer or "config" in answer):
            return reconcile_config(pack, user_config, source)
        if "error" in answer:
            raise PolicyError(answer["error"])
        return {name: PolicyConfig(level, props) for name, (level, props) in answer["config"].items()}

    def close(self) -> None:
        """End the checker if it still runs (the preview is stopping, or it has answered)."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()


__all__ = ["ConfigCheck", "serve"]
