"""``cost``: the monthly steady-state cost of a stack's audit-logging configuration, per service.

Reads the stack's effective settings exactly as the program does (``components.settings.load``
under the offline preview's mock runtime, with ``Pulumi.yaml`` defaults merged into
``Pulumi.<stack>.yaml`` the way the CLI merges them), so retention, storage class, transition,
KMS, Insights, alarms and data-event selectors are the ones a deployment would get. Prices live in
``spawn_audit/prices.json`` with their source page and retrieval date; every assumption the
estimate rests on is printed with it. ``--logs DIR`` measures event rate, event size, compression
and log file sizes from a local copy of the archive instead of assuming them.

Steady state means the archive has reached its retention: each day as much expires as arrives,
so the stored volume is the daily volume times the days each byte is kept in each storage class.
"""

from __future__ import annotations

import argparse
import contextvars
import gzip
import json
import math
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spawn_audit import digest as fmt
from spawn_audit.errors import EXIT_OK, UsageError

ROOT = Path(__file__).resolve().parent.parent
PRICES_FILE = Path(__file__).with_name("prices.json")
HOURS_PER_MONTH = 730  # AWS pricing pages bill a month as 730 hours
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
KB = 1024

# What is assumed when --logs does not measure it; each is printed with the estimate.
DEFAULTS = {
    "management_events": 1_000_000,
    "data_events": 10_000_000,
    "event_bytes": 1500,  # an uncompressed CloudTrail record, JSON, typical of EC2/IAM calls
    "compression": 0.10,  # gzip output / input for CloudTrail JSON
    "write_share": 0.25,  # management events that are writes (the rest are read-only)
    # CloudTrail "typically delivers log files within an average of about 5 minutes" per region
    # with activity (CloudTrail User Guide, "How CloudTrail works"); spawn works in one region.
    "active_regions": 1,
    "files_per_region_hour": 12,
    # A multi-region trail writes one digest per region per hour, also without activity
    # (CloudTrail User Guide, "CloudTrail digest file structure"); 17 regions are enabled by default.
    "digest_regions": 17,
    "digest_bytes": 1200,
}


def load_prices(path: Path = PRICES_FILE) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def price(prices: dict[str, Any], name: str) -> float:
    entry = prices["prices"][name]
    return float(entry["usd"]) / float(entry["per"])


# --- the stack's settings -------------------------------------------------------------------------


def load_settings(stack: str, project_dir: Path = ROOT, overrides: dict[str, Any] | None = None) -> Any:
    """The ``components.settings.Settings`` the program would build for ``stack`` (mock runtime).

    ``overrides`` act like ``pulumi config set`` (key -> value).
    """
    for path in (str(project_dir), str(project_dir / "policy")):
        if path not in sys.path:
            sys.path.insert(0, path)
    import pulumi

    from components import settings as settings_module
    from offline_preview.project import ProjectError, load_project, load_stack_config
    from offline_preview.runner import OfflineMocks, ProgramRun

    try:
        project = load_project(project_dir)
        stacks = sorted(p.name[len("Pulumi."):-len(".yaml")]
                        for p in project.stack_config_dir.glob("Pulumi.*.yaml"))
        if stack not in stacks:
            raise UsageError(f"--stack {stack}: no Pulumi.{stack}.yaml; available: {', '.join(stacks)}")
        config = load_stack_config(project, stack, overrides)
    except ProjectError as exc:
        raise UsageError(f"--stack {stack}: {exc}") from None
    run = ProgramRun(project=project, stack=stack, config=config, preview=False)
    region = config.values.get("aws:region", "us-east-1")

    def load() -> Any:
        pulumi.runtime.set_all_config(dict(config.values), list(config.secret_keys))
        pulumi.runtime.set_mocks(OfflineMocks(run, region), project=project.name, stack=stack, preview=False)
        return settings_module.load()

    try:
        return contextvars.Context().run(load)
    except settings_module.ConfigError as exc:
        raise UsageError(f"--stack {stack}: the stack's config is refused: {exc}") from None


# --- measuring a local archive --------------------------------------------------------------------


@dataclass
class Measured:
    files: int = 0
    compressed_bytes: int = 0
    raw_bytes: int = 0
    management_events: int = 0
    data_events: int = 0
    write_events: int = 0
    hours: float = 0.0
    regions: set[str] = field(default_factory=set)
    file_sizes: list[int] = field(default_factory=list)

    @property
    def events(self) -> int:
        return self.management_events + self.data_events

    def per_month(self, count: float) -> float:
        return count * HOURS_PER_MONTH / self.hours


def measure(directory: Path) -> Measured:
    """Event rate, sizes and compression of the log files under ``directory`` (S3 layout)."""
    if not directory.is_dir():
        raise UsageError(f"--logs {directory}: not a directory")
    m = Measured()
    times = []
    for key in sorted(fmt.iter_keys(directory)):
        match = fmt.LOG_KEY.match(key)
        if not match:
            continue
        path = directory / key
        data = path.read_bytes()
        try:
            raw = gzip.decompress(data)
            records = json.loads(raw).get("Records") or []
            if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
                raise ValueError("Records is not a list of events")
        except (OSError, EOFError, zlib.error, ValueError, AttributeError):
            print(f"warning: --logs: skipped {key}: not a CloudTrail log file", file=sys.stderr)
            continue
        m.files += 1
        m.compressed_bytes += len(data)
        m.raw_bytes += len(raw)
        m.file_sizes.append(len(data))
        m.regions.add(match["region"])
        times.append(fmt.parse_time(match["ts"]))
        for record in records:
            category = record.get("eventCategory") or (
                "Management" if record.get("managementEvent", True) else "Data")
            if category == "Data":
                m.data_events += 1
            else:
                m.management_events += 1
                if not record.get("readOnly", False):
                    m.write_events += 1
    if not m.files:
        raise UsageError(f"--logs {directory}: no CloudTrail log files "
                         f"(AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz)")
    # Each file holds about five minutes of events: the span is first to last file plus one slot.
    span = (max(times) - min(times)).total_seconds() / 3600 + 1 / DEFAULTS["files_per_region_hour"]
    m.hours = max(span, 1 / DEFAULTS["files_per_region_hour"])
    return m


# --- the model ------------------------------------------------------------------------------------


@dataclass
class Line:
    item: str
    quantity: float
    unit: str
    usd: float


@dataclass
class Estimate:
    stack: str
    settings: dict[str, Any]
    inputs: dict[str, Any]
    services: dict[str, list[Line]]
    assumptions: list[str]
    prices: dict[str, Any]

    def service_total(self, name: str) -> float:
        return sum(line.usd for line in self.services[name])

    @property
    def total(self) -> float:
        return sum(self.service_total(n) for n in self.services)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "settings": self.settings,
            "inputs": self.inputs,
            "services": {name: {"monthlyUsd": round(self.service_total(name), 2),
                                "items": [{"item": x.item, "quantity": round(x.quantity, 3), "unit": x.unit,
                                           "monthlyUsd": round(x.usd, 2)} for x in lines]}
                         for name, lines in self.services.items()},
            "totalMonthlyUsd": round(self.total, 2),
            "assumptions": self.assumptions,
            "prices": {"region": self.prices["region"], "retrieved": self.prices["retrieved"],
                       "file": "spawn_audit/prices.json"},
        }


def _sizes_from_assumption(files: float, compressed: float) -> list[tuple[float, float]]:
    """[(share of files, bytes per file)]: every file the average size."""
    return [(1.0, compressed / files if files else 0.0)]


def estimate(s: Any, *, management_events: int | None = None, data_events: int | None = None,
             other_trails: int = 0, athena_tb: float = 0.0, measured: Measured | None = None,
             prices: dict[str, Any] | None = None) -> Estimate:
    """The monthly cost of settings ``s`` at steady state."""
    prices = prices or load_prices()
    rules = prices["storage_rules"]
    notes: list[str] = []

    # ---- volumes ---------------------------------------------------------------------------------
    records_data = bool(s.data_event_dynamodb_tables or s.data_event_lambda_functions
                        or s.data_event_s3_buckets)
    if measured:
        m = measured
        mgmt = management_events if management_events is not None else round(m.per_month(m.management_events))
        data = data_events if data_events is not None else round(m.per_month(m.data_events))
        event_bytes = m.raw_bytes / m.events if m.events else DEFAULTS["event_bytes"]
        compression = m.compressed_bytes / m.raw_bytes if m.raw_bytes else DEFAULTS["compression"]
        write_share = m.write_events / m.management_events if m.management_events else DEFAULTS["write_share"]
        notes.append(f"measured from {m.files} log files over {m.hours:.2f} h in {len(m.regions)} region(s): "
                     f"{m.per_month(m.management_events):,.0f} management and "
                     f"{m.per_month(m.data_events):,.0f} data events/month, {event_bytes:,.0f} bytes/event, "
                     f"gzip to {compression:.1%}, "
                     f"{write_share:.0%} of management events are writes")
    else:
        mgmt = management_events if management_events is not None else DEFAULTS["management_events"]
        data = data_events if data_events is not None else (DEFAULTS["data_events"] if records_data else 0)
        event_bytes, compression = DEFAULTS["event_bytes"], DEFAULTS["compression"]
        write_share = DEFAULTS["write_share"]
        notes.append(f"assumed {event_bytes} bytes per event uncompressed, gzip to {compression:.0%}, "
                     f"{write_share:.0%} of management events are writes (use --logs DIR to measure)")
    if not records_data and data:
        notes.append(f"the stack records no data events (dataEvent* lists are empty): {data:,} data events "
                     f"ignored")
        data = 0
    events = mgmt + data
    raw_gb = events * event_bytes / 1e9
    compressed_bytes = events * event_bytes * compression
    if measured:
        # Files keep their measured cadence (one per active region about every 5 minutes); their
        # measured sizes scale with the volume asked for.
        files = measured.per_month(measured.files)
        scale = compressed_bytes / max(1.0, measured.per_month(measured.compressed_bytes))
        share = 1 / len(measured.file_sizes)
        sizes = [(share, size * scale) for size in measured.file_sizes]
    else:
        files = float(DEFAULTS["active_regions"] * DEFAULTS["files_per_region_hour"] * HOURS_PER_MONTH)
        sizes = _sizes_from_assumption(files, compressed_bytes)
        notes.append(f"{DEFAULTS['active_regions']} region(s) with activity, a log file about every "
                     f"5 minutes there: {files:,.0f} log files/month of "
                     f"{compressed_bytes / files / KB:,.1f} KB on average")
    digests = float(DEFAULTS["digest_regions"] * HOURS_PER_MONTH)
    digest_gb = digests * DEFAULTS["digest_bytes"] / 1e9
    notes.append(f"a digest per hour in each of {DEFAULTS['digest_regions']} regions: "
                 f"{digests:,.0f} digests/month of about {DEFAULTS['digest_bytes']} bytes")
    notes.append("free tiers (KMS 20,000 requests, CloudWatch 5 GB, ...) are not subtracted")

    services: dict[str, list[Line]] = {}

    # ---- CloudTrail --------------------------------------------------------------------------------
    ct = []
    if other_trails:
        ct.append(Line("management events, paid copy (another trail already records them)", mgmt,
                       "events", mgmt * price(prices, "cloudtrail.management_event_additional_copy")))
    else:
        ct.append(Line("management events, first copy (free)", mgmt, "events", 0.0))
        notes.append("this trail is the account's first copy of management events (--other-trails 0)")
    if data:
        ct.append(Line("data events", data, "events", data * price(prices, "cloudtrail.data_event")))
    if s.insights:
        analyzed = mgmt * (1 + write_share)  # writes analyzed for call rate and error rate, reads once
        ct.append(Line("Insights: events analyzed (ApiCallRate + ApiErrorRate)", analyzed, "events",
                       analyzed * price(prices, "cloudtrail.insights_event_analyzed")))
    services["CloudTrail"] = ct

    # ---- CloudWatch Logs and alarms -----------------------------------------------------------------
    stored_gb = raw_gb / DAYS_PER_MONTH * s.log_group_retention_days * compression
    services["CloudWatch Logs"] = [
        Line("ingestion of every event the trail records", raw_gb, "GB",
             raw_gb * price(prices, "logs.ingestion_standard")),
        Line(f"storage at steady state: {s.log_group_retention_days} days, compressed", stored_gb, "GB-month",
             stored_gb * price(prices, "logs.storage")),
    ]
    notes.append("CloudWatch Logs archive size taken as the gzip size of the events")
    if s.app_audit_log_group_name:
        notes.append(f"the application audit log group {s.app_audit_log_group_name} is not priced "
                     f"(its volume depends on spawn, not on the trail)")
    alarms = len(s.alarm_controls)
    services["CloudWatch alarms"] = [Line("standard-resolution alarms", alarms, "alarms",
                                          alarms * price(prices, "cloudwatch.alarm_standard"))]
    if s.trail_sns_notification:
        services["SNS"] = [Line("a notification per delivered log file", files, "publishes",
                                files * price(prices, "sns.publish"))]

    # ---- S3 ---------------------------------------------------------------------------------------
    retention = s.archive_retention_days
    transition = s.archive_transition_days
    storage_class = s.archive_storage_class
    daily_gb = compressed_bytes / 1e9 / DAYS_PER_MONTH
    daily_files = files / DAYS_PER_MONTH
    s3 = []
    std_gb = digest_gb / DAYS_PER_MONTH * retention  # digests are a few KB: they never transition
    class_gb = 0.0
    overhead_class_gb = overhead_std_gb = 0.0
    moved_files = 0.0
    min_transition = rules["lifecycle_minimum_transition_kb"] * KB
    if transition is None or transition >= retention:
        std_gb += daily_gb * retention
        notes.append(f"S3: every object stays in STANDARD for its {retention} days")
    else:
        days_in_class = retention - transition
        billed_days = max(days_in_class, rules["minimum_days"].get(storage_class, 0))
        if billed_days > days_in_class:
            notes.append(f"S3: {storage_class} bills at least {billed_days} days; objects expire after "
                         f"{days_in_class} there, so the rest is charged as early deletion")
        min_kb = rules["minimum_billable_kb"].get(storage_class, 0) * KB
        overhead = rules["archive_overhead_kb"].get(storage_class)
        small_share = 0.0
        for share, size in sizes:
            n = daily_files * share  # files of this size per day
            gb = n * size / 1e9
            if size < min_transition:
                small_share += share
                std_gb += gb * retention
                continue
            moved_files += n * DAYS_PER_MONTH
            std_gb += gb * transition
            class_gb += n * max(size, min_kb) / 1e9 * billed_days
            if overhead:
                overhead_class_gb += n * overhead["class_kb"] * KB / 1e9 * billed_days
                overhead_std_gb += n * overhead["standard_kb"] * KB / 1e9 * billed_days
        notes.append(f"S3: lifecycle moves objects to {storage_class} on day {transition}, expires "
                     f"them on day {retention}; objects under {rules['lifecycle_minimum_transition_kb']} "
                     f"KB are not moved (S3 Lifecycle default since September 2024): {small_share:.0%} of "
                     f"log files stay in "
                     f"STANDARD")
        if overhead:
            notes.append(f"S3: each object in {storage_class} adds {overhead['class_kb']} KB billed at "
                         f"{storage_class} and {overhead['standard_kb']} KB at STANDARD")
    s3.append(Line("STANDARD storage", std_gb, "GB-month", std_gb * price(prices, "s3.storage.STANDARD")))
    if class_gb:
        s3.append(Line(f"{storage_class} storage", class_gb, "GB-month",
                       class_gb * price(prices, f"s3.storage.{storage_class}")))
    if overhead_class_gb:
        s3.append(Line(f"{storage_class} per-object overhead", overhead_class_gb + overhead_std_gb,
                       "GB-month",
                       overhead_class_gb * price(prices, f"s3.storage.{storage_class}")
                       + overhead_std_gb * price(prices, "s3.storage.STANDARD")))
    s3.append(Line("PUT requests (log files and digests)", files + digests, "requests",
                   (files + digests) * price(prices, "s3.put_request")))
    if moved_files:
        s3.append(Line(f"lifecycle transitions to {storage_class}", moved_files, "requests",
                       moved_files * price(prices, f"s3.transition.{storage_class}")))
    services["S3"] = s3
    if s.access_logging:
        notes.append("S3 server access logs of the log bucket are not priced (a few bytes per request)")

    # ---- KMS --------------------------------------------------------------------------------------
    if s.kms:
        requests = files + digests
        services["KMS"] = [
            Line("customer managed key, with yearly rotation (first two rotations billed)", 3, "key-months",
                 3 * price(prices, "kms.key")),
            Line("requests: a GenerateDataKey per delivered object", requests, "requests",
                 requests * price(prices, "kms.request")),
        ]
        notes.append("KMS: reads by auditors and CloudWatch Logs' own key use are not counted")

    # ---- Athena -----------------------------------------------------------------------------------
    if athena_tb:
        services["Athena"] = [Line("data scanned by queries", athena_tb, "TB",
                                   athena_tb * price(prices, "athena.scanned"))]
    # What the analytics workgroup scans depends on who queries how often, not on the stack's config.
    notes.append("Athena: priced from --athena-tb (TB scanned per month)" if athena_tb else
                 "Athena: not priced; pass --athena-tb N (TB scanned per month) to include queries")

    return Estimate(
        stack=s.stack,
        settings={
            "profiles": list(s.profiles) or ["sandbox"], "archiveRetentionDays": retention,
            "archiveStorageClass": storage_class, "archiveTransitionDays": transition,
            "logGroupRetentionDays": s.log_group_retention_days, "encryption": s.encryption,
            "insights": s.insights, "alarms": alarms, "recordsDataEvents": records_data,
            "trailSnsNotification": s.trail_sns_notification,
        },
        inputs={"managementEventsPerMonth": mgmt, "dataEventsPerMonth": data, "otherTrails": other_trails,
                "athenaTbScanned": athena_tb, "bytesPerEvent": round(event_bytes),
                "compression": round(compression, 4), "logFilesPerMonth": round(files),
                "digestsPerMonth": round(digests), "measured": measured is not None},
        services=services,
        assumptions=notes,
        prices=prices,
    )


# --- output ---------------------------------------------------------------------------------------


def render_text(e: Estimate) -> str:
    st = e.settings
    lines = [f"stack {e.stack}: {', '.join(st['profiles'])}; archive {st['archiveRetentionDays']} days"
             + (f", {st['archiveStorageClass']} from day {st['archiveTransitionDays']}"
                if st["archiveTransitionDays"] is not None else "")
             + f"; log group {st['logGroupRetentionDays']} days; {st['encryption']}; "
             f"Insights {'on' if st['insights'] else 'off'}",
             f"volume: {e.inputs['managementEventsPerMonth']:,} management + "
             f"{e.inputs['dataEventsPerMonth']:,} data events/month", ""]
    for name in e.services:
        lines.append(f"{name:<20} {e.service_total(name):>12,.2f} USD/month")
        for x in e.services[name]:
            lines.append(f"    {x.item}: {x.quantity:,.2f} {x.unit} = {x.usd:,.2f}")
    lines += [f"{'TOTAL':<20} {e.total:>12,.2f} USD/month", "", "assumptions:"]
    lines += [f"  - {note}" for note in e.assumptions]
    lines.append(f"  - prices: {e.prices['region']} list prices retrieved {e.prices['retrieved']} "
                 f"(spawn_audit/prices.json names each source)")
    return "\n".join(lines) + "\n"


# --- command line ---------------------------------------------------------------------------------


def _count(option: str, value: str) -> int:
    try:
        number = int(value.replace("_", "").replace(",", ""))
    except ValueError:
        raise UsageError(f"{option} {value!r}: not a whole number of events per month") from None
    if number < 0:
        raise UsageError(f"{option} {value}: use 0 or more")
    return number


def add_parser(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser:
    p = subparsers.add_parser(name, help="monthly steady-state cost of a stack's configuration, per service",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("--stack", required=True, help="stack name (Pulumi.<stack>.yaml)")
    p.add_argument("--management-events", help="management events per month (default: measured or "
                   f"{DEFAULTS['management_events']:,})")
    p.add_argument("--data-events", help="data events per month (default: measured or "
                   f"{DEFAULTS['data_events']:,} when the stack records data events)")
    p.add_argument("--logs", type=Path, metavar="DIR", help="measure volumes from a local archive copy")
    p.add_argument("--other-trails", type=int, default=0,
                   help="other trails already recording management events (this one is then a paid copy)")
    p.add_argument("--athena-tb", type=float, default=0.0, help="TB scanned by Athena queries per month")
    p.add_argument("--format", choices=("text", "json"), default="text")
    return p


def run(args: argparse.Namespace) -> int:
    mgmt = _count("--management-events", args.management_events) if args.management_events else None
    data = _count("--data-events", args.data_events) if args.data_events else None
    for option, value in (("--other-trails", args.other_trails), ("--athena-tb", args.athena_tb)):
        if value < 0 or not math.isfinite(value):
            shown = value if option == "--other-trails" else f"{value:g}"
            raise UsageError(f"{option} {shown}: use a finite number, 0 or more")
    measured = measure(args.logs) if args.logs else None
    settings = load_settings(args.stack)
    e = estimate(settings, management_events=mgmt, data_events=data, other_trails=args.other_trails,
                 athena_tb=args.athena_tb, measured=measured)
    if args.format == "json":
        sys.stdout.write(json.dumps(e.as_dict(), indent=2) + "\n")
    else:
        sys.stdout.write(render_text(e))
    return EXIT_OK
