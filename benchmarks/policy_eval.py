"""Benchmark: the pack's evaluation of a realistic stack over the real gRPC protocol, beside awsguard.

The resources are the ``prod`` stack's own, recorded by the offline preview's runner (the program
under the SDK's mock runtime, as ``python -m offline_preview preview --stack prod`` records them)
and replicated with distinct names and URNs until the stack has the requested size: each copy
suffixes every resource name and every bucket, log-group, topic, alarm ... name it refers to (in
ARNs and policy documents too), so copies never refer to each other.

Two packs are launched as the Pulumi CLI launches them and configured the engine's way:

* ours, ``python -u -m pulumi.policy`` on ``policy/`` with ``--config`` (default: the hipaa config);
* the peer, Pulumi's ``@pulumi/awsguard`` (Node.js, every policy mandatory) run through
  ``@pulumi/pulumi``'s ``cmd/run-policy-pack``, installed from the npm registry into
  ``benchmarks/.peer/`` (git-ignored) on first use when ``node`` and ``npm`` are present; without
  them the peer is skipped and the table says so.

Every request (one ``Analyze`` per registration, as the engine sends them, up to 4 in flight, and
one ``AnalyzeStack`` with every resource) is built before the timed window. For each size the packs
run one after the other, interleaved, ``--runs`` times; the table shows the median wall time per
resource (Analyze, AnalyzeStack, both) and the pack process's CPU time per resource (user + system,
from /proc). The load average is printed before and after: the machine may be shared.
``--check`` also evaluates the stack in-process through the pulumi-policy SDK's own servicer and
compares every response with what our pack answered over gRPC. Prints figures only; nothing here
asserts a timing.

    python benchmarks/policy_eval.py [PACK_DIR] [--config FILE] [--resources 5000 20000] [--runs 3]
        [--no-peer] [--check]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import gc
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from google.protobuf import struct_pb2  # noqa: E402
from pulumi.runtime.proto import analyzer_pb2  # noqa: E402

from offline_preview.pack_client import PolicyPackProcess, configure_request, pack_info_from_proto  # noqa: E402
from offline_preview.pack_config import PolicyError, load_policy_config_file, reconcile_config  # noqa: E402
from offline_preview.pack_run import analyze_request, stack_resource  # noqa: E402
from offline_preview.runner import ResourceRecord, run_program  # noqa: E402

PEER_DIR = Path(__file__).resolve().parent / ".peer"
# The peer and the runner it is served by, pinned so that figures stay comparable between runs.
PEER_PACKAGES = ("@pulumi/awsguard@0.3.1", "@pulumi/pulumi@3.276.0", "@pulumi/policy@1.21.0")
PEER_PROGRAM = 'const { AwsGuard } = require("@pulumi/awsguard");\nnew AwsGuard({ all: "mandatory" });\n'
WINDOW = 4  # Analyze calls in flight, as offline_preview.pack_client.PolicyPackProcess.analyze_many


# --- the stack: prod, recorded and replicated ------------------------------------------------------------

def record_stack(stack: str = "prod") -> list[ResourceRecord]:
    """Every registration the engine analyzes (the Stack, default providers, components, custom
    resources), as the offline preview records them, each with the outputs ``AnalyzeStack`` is sent
    (the program's prints go to stderr)."""
    with contextlib.redirect_stdout(sys.stderr):
        run = run_program(REPO, stack)
    if run.error is not None:
        raise SystemExit(f"the {stack} program failed: {run.error}")
    records = []
    for r in run.analyzed_records():
        if r.type == "pulumi:pulumi:Stack":
            r = replace(r, outputs=dict(run.outputs))
        elif not r.custom and not r.type.startswith("pulumi:providers:"):
            r = replace(r, outputs=run.registered_outputs.get(r.urn, {}))
        records.append(r)
    return records


def _identifiers(records: Iterable[ResourceRecord]) -> list[str]:
    """Names one resource uses to refer to another (bucket, log group, topic, role ... names)."""
    found = set()
    for r in records:
        for key in ("name", "bucket"):
            value = r.inputs.get(key)
            if isinstance(value, str) and len(value) >= 4 and not value.startswith("04da6b54"):
                found.add(value)
    return sorted(found, key=len, reverse=True)  # longest first, so a prefix never wins


def _rename(value, pattern: re.Pattern[str], suffix: str):
    if isinstance(value, str):
        return pattern.sub(lambda m: m.group(0) + suffix, value)
    if isinstance(value, dict):
        return {k: _rename(v, pattern, suffix) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v, pattern, suffix) for v in value]
    return value


def replicate(records: list[ResourceRecord], count: int) -> list[ResourceRecord]:
    """``count`` resources: the records, then copies of them (all but the Stack, of which there is
    one) with distinct names and URNs, and their references to each other renamed alike."""
    pattern = re.compile("|".join(re.escape(i) for i in _identifiers(records)))
    copied = [r for r in records if r.type != "pulumi:pulumi:Stack"]
    result: list[ResourceRecord] = []
    copy = 0
    while len(result) < count:
        if copy == 0:
            result.extend(records)
        else:
            suffix = f"-r{copy}"
            urns = {r.urn: f"{r.urn}{suffix}" for r in copied}

            def urn(u: str | None, urns: dict[str, str] = urns) -> str | None:
                return urns.get(u, u) if u else u

            def provider(ref: str | None, urns: dict[str, str] = urns) -> str | None:
                if not ref:
                    return ref
                target, sep, ident = ref.rpartition("::")
                return f"{urns.get(target, target)}{sep}{ident}" if target in urns else ref

            for r in copied:
                inputs = _rename(r.inputs, pattern, suffix)
                properties = struct_pb2.Struct()
                properties.update(inputs)
                result.append(replace(
                    r, urn=urns[r.urn], name=r.name + suffix, parent=urn(r.parent), inputs=inputs,
                    properties=properties, dependencies=[urn(d) for d in r.dependencies],
                    property_dependencies={k: [urn(d) for d in v]
                                           for k, v in r.property_dependencies.items()},
                    provider=provider(r.provider),
                    outputs=None if r.outputs is None else _rename(r.outputs, pattern, suffix),
                ))
        copy += 1
    return result[:count]


@dataclass
class Requests:
    resources: int
    analyze: list[analyzer_pb2.AnalyzeRequest]
    stack: analyzer_pb2.AnalyzeStackRequest
    bytes_per_resource: float


def build_requests(records: list[ResourceRecord]) -> Requests:
    """What the offline preview sends (``run_policy_pack``): ``Analyze`` for every registration with
    its provider's inputs, then ``AnalyzeStack`` with every resource's outputs."""
    providers = {r.urn: r for r in records if r.type.startswith("pulumi:providers:")}
    analyze = [analyze_request(r, providers) for r in records]
    stack = analyzer_pb2.AnalyzeStackRequest()
    stack.resources.extend(stack_resource(r, providers) for r in records)
    size = stack.ByteSize() / len(records)  # each resource as AnalyzeStack carries it
    return Requests(len(records), analyze, stack, size)


# --- the packs ------------------------------------------------------------------------------------------

def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _vm_hwm_mib(pid: int | str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class NodePackProcess(PolicyPackProcess):
    """A Node.js pack launched as the CLI launches one: ``run-policy-pack <engine> <pack-dir>``."""

    def __init__(self, install_dir: Path, **kwargs) -> None:
        super().__init__(install_dir / "pack", **kwargs)
        self.runner = install_dir / "node_modules" / "@pulumi" / "pulumi" / "cmd" / "run-policy-pack"

    def spawn(self) -> None:
        env = {**os.environ, "PULUMI_PROJECT": self.project, "PULUMI_STACK": self.stack,
               "PULUMI_DRY_RUN": "true", "PULUMI_CONFIG": "{}"}
        # The offline preview's own launch: stdout drained on a thread, the port from its first line.
        self.launch(["node", str(self.runner), "127.0.0.1:1", str(self.path)], env)


def install_peer(directory: Path) -> tuple[Path | None, str]:
    """awsguard and its runner from the npm registry (once); (install dir or None, what happened)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return None, "not measured: node/npm not found on PATH"
    if not (directory / "node_modules" / "@pulumi" / "awsguard").is_dir():
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "package.json").write_text('{"private": true}\n', encoding="utf-8")
        # --ignore-scripts: @pulumi/aws's install script downloads a provider plugin the policies never use.
        result = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error",
             *PEER_PACKAGES], cwd=directory, capture_output=True, text=True)
        if result.returncode != 0:
            return None, f"not measured: npm install failed: {result.stderr.strip()[-500:]}"
    pack = directory / "pack"
    pack.mkdir(exist_ok=True)
    (pack / "index.js").write_text(PEER_PROGRAM, encoding="utf-8")
    (pack / "package.json").write_text(
        json.dumps({"name": "awsguard-benchmark", "version": "0.0.1", "main": "index.js"}), encoding="utf-8")
    return directory, "installed from the npm registry: " + ", ".join(PEER_PACKAGES)


@dataclass
class Sample:
    analyze_s: float
    stack_s: float
    cpu_s: float
    diagnostics: int
    responses: list = None  # type: ignore[assignment]


def _analyze_all(pack: PolicyPackProcess, requests: list) -> list:
    stub = pack.stub
    assert stub is not None
    pending: collections.deque = collections.deque()
    responses = []
    for request in requests:
        pending.append(stub.Analyze.future(request))
        if len(pending) >= WINDOW:
            responses.append(pending.popleft().result())
    while pending:
        responses.append(pending.popleft().result())
    return responses


def evaluate(pack: PolicyPackProcess, requests: Requests, keep: bool = False) -> Sample:
    """One evaluation: every Analyze, then the AnalyzeStack; wall and the pack's CPU time."""
    assert pack.pid is not None
    # This client holds every request and record; its collector rescanning them would be timed too.
    gc.collect()
    gc.disable()
    try:
        cpu0 = _cpu_seconds(pack.pid)
        t0 = time.perf_counter()
        responses = _analyze_all(pack, requests.analyze)
        t1 = time.perf_counter()
        stack = pack.stub.AnalyzeStack(requests.stack)
        t2 = time.perf_counter()
        cpu = _cpu_seconds(pack.pid) - cpu0
    finally:
        gc.enable()
    count = sum(len(r.diagnostics) for r in responses) + len(stack.diagnostics)
    return Sample(t1 - t0, t2 - t1, cpu, count, [*responses, stack] if keep else None)


def start(pack: PolicyPackProcess, user_config: dict) -> str:
    pack.start()
    info = pack.get_info()
    pack.configure(reconcile_config(info, user_config), info.name)
    pack.configure_stack()
    return f"{info.label} ({len(info.policies)} policies)"


# --- the check against the SDK's own path ---------------------------------------------------------------

def sdk_responses(pack_dir: Path, user_config: dict, requests: Requests) -> list:
    """The same requests through pulumi-policy's own ``_PolicyAnalyzerServicer``, in this process."""
    sys.path.insert(0, str(pack_dir.resolve()))
    from audit_policies.pack import ALL_POLICIES, PACK_NAME
    from pulumi_policy import EnforcementLevel
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    servicer = _PolicyAnalyzerServicer(PACK_NAME, "0.0.1", ALL_POLICIES, EnforcementLevel.MANDATORY)
    info = pack_info_from_proto(servicer.GetAnalyzerInfo(None, None), pack_dir.resolve(), str(pack_dir))
    servicer.Configure(configure_request(reconcile_config(info, user_config)), None)
    return [*(servicer.Analyze(r, None) for r in requests.analyze),
            servicer.AnalyzeStack(requests.stack, None)]


# --- the table ------------------------------------------------------------------------------------------

def _row(label: str, samples: list[Sample], n: int) -> str:
    def ms(values: Callable[[Sample], float]) -> float:
        return 1000 * statistics.median(values(s) for s in samples) / n

    total = [1000 * (s.analyze_s + s.stack_s) / n for s in samples]
    return (f"  {label:<10}{ms(lambda s: s.analyze_s):>10.3f}{ms(lambda s: s.stack_s):>13.3f}"
            f"{statistics.median(total):>10.3f}{min(total):>8.3f}{ms(lambda s: s.cpu_s):>10.3f}"
            f"{samples[0].diagnostics:>8}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pack", nargs="?", default=str(REPO / "policy"),
                        help="our policy pack (default: policy)")
    parser.add_argument("--config", default=str(REPO / "policy" / "config" / "hipaa.json"),
                        help="a --policy-pack-config file for our pack (default: policy/config/hipaa.json)")
    parser.add_argument("--resources", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--runs", type=int, default=3, help="evaluations per pack and size (default: 3)")
    parser.add_argument("--stack", default="prod", help="the stack recorded and replicated (default: prod)")
    parser.add_argument("--no-peer", action="store_true", help="measure our pack only")
    parser.add_argument("--peer-dir", type=Path, default=PEER_DIR, help="where awsguard is installed")
    parser.add_argument("--check", action="store_true",
                        help="compare our pack's responses with the SDK's own servicer (slow)")
    args = parser.parse_args(argv)

    user_config = load_policy_config_file(args.config) if args.config else {}
    base = record_stack(args.stack)
    peer_dir, peer_note = (None, "not measured: --no-peer") if args.no_peer else install_peer(args.peer_dir)
    print(f"load average before    {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(f"stack                  {args.stack}: {len(base)} resources recorded, replicated with distinct "
          f"names/URNs")
    print(f"peer                   @pulumi/awsguard: {peer_note}")

    ours = PolicyPackProcess(args.pack, project="spawn-audit", stack=args.stack)
    peer = NodePackProcess(peer_dir, project="spawn-audit", stack=args.stack) if peer_dir else None
    packs: list[tuple[str, PolicyPackProcess]] = [("ours", ours)] + ([("awsguard", peer)] if peer else [])
    try:
        for name, pack in packs:
            try:
                label = start(pack, user_config if pack is ours else {})
            except PolicyError as exc:
                raise SystemExit(f"{name}: {exc}") from None
            print(f"pack {name:<17} {label}")
        warmup = build_requests(base)
        for _, pack in packs:
            evaluate(pack, warmup)
        print(f"\nms per resource, median of {args.runs} runs (min: the fastest run); cpu = the pack "
              "process's user+system time")
        print(f"  {'pack':<10}{'Analyze':>10}{'AnalyzeStack':>13}{'total':>10}{'min':>8}{'cpu':>10}"
              f"{'diags':>8}")
        per_resource: dict[tuple[str, int], float] = {}
        for n in args.resources:
            requests = build_requests(replicate(base, n))
            print(f"{n} resources ({len(requests.analyze)} Analyze + 1 AnalyzeStack, "
                  f"{requests.bytes_per_resource:.0f} bytes per resource in AnalyzeStack)")
            samples: dict[str, list[Sample]] = {name: [] for name, _ in packs}
            for run in range(args.runs):
                for name, pack in packs:
                    keep = args.check and run == 0 and pack is ours
                    samples[name].append(evaluate(pack, requests, keep=keep))
            for name, _ in packs:
                print(_row(name, samples[name], n))
                per_resource[(name, n)] = statistics.median(
                    1000 * (s.analyze_s + s.stack_s) / n for s in samples[name])
            if args.check:
                expected = sdk_responses(Path(args.pack), user_config, requests)
                got = samples["ours"][0].responses
                same = [a.SerializeToString(deterministic=True) == b.SerializeToString(deterministic=True)
                        for a, b in zip(expected, got, strict=True)]
                print(f"  check      {'identical' if all(same) else 'DIFFERENT'} to the SDK's own servicer "
                      f"({sum(same)}/{len(same)} responses)")
        print()
        for name, _ in packs:
            if len(args.resources) > 1:
                first, last = args.resources[0], args.resources[-1]
                ratio = per_resource[(name, last)] / per_resource[(name, first)]
                print(f"linearity {name:<12} {last} vs {first}: {ratio:.2f}x the per-resource cost")
        if peer:
            for n in args.resources:
                ratio = per_resource[("ours", n)] / per_resource[("awsguard", n)]
                print(f"ours vs awsguard       {n}: {ratio:.2f}x the peer's per-resource time")
        peaks = ", ".join(f"{name} {_vm_hwm_mib(p.pid):.0f} MiB" for name, p in packs)
        print(f"peak RSS (VmHWM)       {peaks}")
    finally:
        for _, pack in packs:
            pack.close()
    print(f"load average after     {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
