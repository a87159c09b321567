"""Benchmark: policy evaluation of a synthetic 5,000-resource stack through the real gRPC protocol.

Launches the pack exactly as the offline preview does (``python -u -m pulumi.policy``), configures it
the engine's way, sends one ``Analyze`` per resource and one ``AnalyzeStack`` with all of them, and
prints total time, milliseconds per resource and peak memory (VmHWM of the pack process from
/proc/<pid>/status, and of this client). The stack is a mix of what an audit-logging program
registers: trails, log buckets with their configuration resources, log groups, metric filters and
alarms. Target: under 1 ms per resource. Prints figures only; nothing here asserts a timing.

    python benchmarks/policy_eval.py [PACK_DIR] [--config FILE] [--resources 5000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from google.protobuf import struct_pb2  # noqa: E402

from offline_preview.analyzer import (  # noqa: E402
    PolicyPackProcess,
    load_policy_config_file,
    reconcile_config,
    stack_resource,
)
from offline_preview.runner import UNKNOWN, ResourceRecord  # noqa: E402

PROJECT, STACK = "bench", "bench"


def _urn(parent_type: str | None, type_: str, name: str) -> str:
    qualified = f"{parent_type}${type_}" if parent_type else type_
    return f"urn:pulumi:{STACK}::{PROJECT}::{qualified}::{name}"


def _record(type_: str, name: str, inputs: dict, parent: str | None = None, deps: list[str] | None = None,
            protect: bool = False) -> ResourceRecord:
    properties = struct_pb2.Struct()
    properties.update(inputs)
    deps = deps or []
    return ResourceRecord(
        urn=_urn("bench:index:Audit" if parent else None, type_, name), type=type_, name=name, custom=True,
        parent=parent, inputs=inputs, properties=properties, dependencies=deps,
        property_dependencies={k: deps for k in inputs if inputs[k] == UNKNOWN}, protect=protect,
        provider=None, delete_before_replace=None, ignore_changes=[], additional_secret_outputs=[],
        retain_on_delete=False, source_file=None, source_line=None,
    )


def synthetic_stack(count: int) -> list[ResourceRecord]:
    """``count`` resources in groups of ten: a bucket and five of its configuration resources, a log
    group, a metric filter, an alarm, and a trail writing to the bucket."""
    records: list[ResourceRecord] = []
    i = 0
    while len(records) < count:
        b = f"logs-{i}"
        bucket = _record("aws:s3/bucket:Bucket", b, {"bucket": f"audit-{b}", "forceDestroy": False},
                         protect=True)
        group = [
            bucket,
            _record("aws:s3/bucketVersioning:BucketVersioning", f"{b}-versioning",
                    {"bucket": UNKNOWN, "versioningConfiguration": {"status": "Enabled"}}, deps=[bucket.urn]),
            _record("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                    f"{b}-sse", {"bucket": UNKNOWN, "rules": [{"applyServerSideEncryptionByDefault": {
                        "sseAlgorithm": "aws:kms", "kmsMasterKeyId": UNKNOWN}, "bucketKeyEnabled": True}]},
                    deps=[bucket.urn]),
            _record("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", f"{b}-pab",
                    {"bucket": UNKNOWN, "blockPublicAcls": True, "blockPublicPolicy": True,
                     "ignorePublicAcls": True, "restrictPublicBuckets": True}, deps=[bucket.urn]),
            _record("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", f"{b}-lifecycle",
                    {"bucket": UNKNOWN, "rules": [{"id": "retain", "status": "Enabled",
                                                   "expiration": {"days": 2555}}]}, deps=[bucket.urn]),
            _record("aws:s3/bucketPolicy:BucketPolicy", f"{b}-policy",
                    {"bucket": UNKNOWN, "policy": UNKNOWN}, deps=[bucket.urn]),
            _record("aws:cloudwatch/logGroup:LogGroup", f"trail-{i}", {"name": f"/aws/cloudtrail/{i}",
                                                                        "retentionInDays": 2557}),
        ]
        group.append(_record("aws:cloudwatch/logMetricFilter:LogMetricFilter", f"filter-{i}", {
            "logGroupName": UNKNOWN, "pattern": '{ ($.eventName = "StopLogging") }',
            "metricTransformation": {"name": "CloudTrailChanges", "namespace": "Bench", "value": "1"},
        }, deps=[group[-1].urn]))
        group.append(_record("aws:cloudwatch/metricAlarm:MetricAlarm", f"alarm-{i}", {
            "metricName": "CloudTrailChanges", "namespace": "Bench", "comparisonOperator":
            "GreaterThanOrEqualToThreshold", "threshold": 1, "evaluationPeriods": 1, "period": 300,
            "statistic": "Sum", "alarmActions": [UNKNOWN],
        }))
        group.append(_record("aws:cloudtrail/trail:Trail", f"trail-{i}", {
            "s3BucketName": UNKNOWN, "isMultiRegionTrail": True, "enableLogFileValidation": True,
            "includeGlobalServiceEvents": True, "cloudWatchLogsGroupArn": UNKNOWN, "kmsKeyId": UNKNOWN,
        }, deps=[bucket.urn, group[6].urn]))
        records.extend(group)
        i += 1
    return records[:count]


def _vm_hwm_kib(pid: int | str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pack", nargs="?", default="policy", help="policy pack directory (default: policy)")
    parser.add_argument("--config", help="a --policy-pack-config file")
    parser.add_argument("--resources", type=int, default=5000)
    args = parser.parse_args(argv)

    records = synthetic_stack(args.resources)
    user_config = load_policy_config_file(args.config) if args.config else {}
    started = time.perf_counter()
    with PolicyPackProcess(args.pack, project=PROJECT, stack=STACK) as pack:
        launched = time.perf_counter()
        info = pack.get_info()
        pack.configure(reconcile_config(info, user_config))
        configured = time.perf_counter()
        t0 = time.perf_counter()
        violations = sum(len(r.diagnostics) for r in pack.analyze_many(records))
        t1 = time.perf_counter()
        response = pack.analyze_stack(_stack_request(records))
        t2 = time.perf_counter()
        pack_hwm = _vm_hwm_kib(pack.pid)
    total = t2 - t0
    client_hwm = _vm_hwm_kib("self")
    print(f"policy pack            {info.label} ({len(info.policies)} policies) from {args.pack}")
    print(f"resources              {len(records)}")
    print(f"launch + first port    {launched - started:8.3f} s")
    print(f"GetAnalyzerInfo+Config {configured - launched:8.3f} s")
    per = 1000 * (t1 - t0) / len(records)
    print(f"Analyze x{len(records):<13} {t1 - t0:8.3f} s   {per:7.3f} ms/resource")
    print(f"AnalyzeStack x1        {t2 - t1:8.3f} s   {1000 * (t2 - t1) / len(records):7.3f} ms/resource")
    print(f"total evaluation       {total:8.3f} s   {1000 * total / len(records):7.3f} ms/resource "
          f"(target < 1 ms)")
    print(f"diagnostics            {violations} from Analyze, {len(response.diagnostics)} from AnalyzeStack")
    print(f"peak RSS (VmHWM)       pack {pack_hwm / 1024:.1f} MiB, client {client_hwm / 1024:.1f} MiB")
    return 0


def _stack_request(records: list[ResourceRecord]):
    from pulumi.runtime.proto import analyzer_pb2

    request = analyzer_pb2.AnalyzeStackRequest()
    request.resources.extend(stack_resource(r) for r in records)
    return request


if __name__ == "__main__":
    sys.exit(main())
