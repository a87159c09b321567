"""cost: per-service monthly figures from the stack's real settings and the cited price table.

Expected figures are computed here by hand from prices.json, so a change in the model or the
table that moves a number fails a test. The README's dev/prod comparison is checked against the
command's own output.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import archive_factory
import pytest

from spawn_audit import cost
from spawn_audit.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
PRICES = cost.load_prices()
VOLUMES = {"low": (1_000_000, 10_000_000), "high": (20_000_000, 500_000_000)}


def p(name: str) -> float:
    return cost.price(PRICES, name)


_settings_cache: dict[str, object] = {}


def settings(stack: str, **overrides):
    key = json.dumps([stack, overrides], sort_keys=True)
    if key not in _settings_cache:
        _settings_cache[key] = cost.load_settings(stack, overrides=overrides or None)
    return _settings_cache[key]


def items(e: cost.Estimate, service: str) -> dict[str, float]:
    return {line.item: line.usd for line in e.services[service]}


def test_prices_have_a_source_for_each_figure() -> None:
    for name, entry in PRICES["prices"].items():
        assert entry["source"].startswith("https://aws.amazon.com/"), name
        assert entry["usd"] > 0 and entry["per"] >= 1, name
    assert PRICES["region"] == "us-east-1" and re.match(r"^\d{4}-\d\d-\d\d$", PRICES["retrieved"])


def test_settings_come_from_the_stack_files() -> None:
    prod, dev = settings("prod"), settings("dev")
    assert (prod.archive_retention_days, prod.archive_transition_days, prod.encryption) == (2555, 90, "kms")
    assert (dev.archive_retention_days, dev.archive_transition_days, dev.encryption) == (30, None, "sse-s3")


def test_prod_cloudtrail_cloudwatch_and_kms_by_hand() -> None:
    e = cost.estimate(settings("prod"), management_events=2_000_000, data_events=0)
    assert e.service_total("CloudTrail") == 0  # the first copy of management events is free
    gb = 2_000_000 * 1500 / 1e9
    ingest, stored = items(e, "CloudWatch Logs").values()
    assert ingest == pytest.approx(gb * p("logs.ingestion_standard"))
    assert stored == pytest.approx(gb / cost.DAYS_PER_MONTH * 2557 * 0.10 * p("logs.storage"))
    objects = 12 * 730 + 17 * 730
    assert e.service_total("KMS") == pytest.approx(3 * p("kms.key") + objects * p("kms.request"))
    assert e.service_total("CloudWatch alarms") == pytest.approx(17 * p("cloudwatch.alarm_standard"))


def test_paid_copy_data_events_and_insights() -> None:
    e = cost.estimate(settings("prod", insights=True), management_events=1_000_000, data_events=3_000_000,
                      other_trails=1)
    assert list(items(e, "CloudTrail").values()) == pytest.approx([
        1_000_000 * p("cloudtrail.management_event_additional_copy"),
        3_000_000 * p("cloudtrail.data_event"),
        1_250_000 * p("cloudtrail.insights_event_analyzed"),  # writes (25%) analyzed twice
    ])


def test_no_data_events_when_the_stack_records_none() -> None:
    s = settings("dev", dataEventDynamodbTables=[], dataEventLambdaFunctions=[])
    e = cost.estimate(s, data_events=5_000_000)
    assert e.inputs["dataEventsPerMonth"] == 0
    assert any("records no data events" in note for note in e.assumptions)


def test_s3_glacier_storage_overhead_and_transitions() -> None:
    # 10M data events a month: 8,760 files of ~184 KB, all at least 128 KB, so all transition.
    e = cost.estimate(settings("prod"), management_events=1_000_000, data_events=10_000_000)
    daily_gb = 11_000_000 * 150 / 1e9 / cost.DAYS_PER_MONTH
    daily_files = 8760 / cost.DAYS_PER_MONTH
    s3 = items(e, "S3")
    digest_gb = 17 * 730 * 1200 / 1e9 / cost.DAYS_PER_MONTH * 2555
    assert s3["STANDARD storage"] == pytest.approx((daily_gb * 90 + digest_gb) * p("s3.storage.STANDARD"))
    assert s3["GLACIER storage"] == pytest.approx(daily_gb * 2465 * p("s3.storage.GLACIER"))
    assert s3["GLACIER per-object overhead"] == pytest.approx(
        daily_files * 2465 * (32 * 1024 * p("s3.storage.GLACIER") + 8 * 1024 * p("s3.storage.STANDARD"))
        / 1e9)
    assert s3["lifecycle transitions to GLACIER"] == pytest.approx(8760 * p("s3.transition.GLACIER"))


def test_small_log_files_stay_in_standard() -> None:
    # 1M events a month: files of ~17 KB, under the 128 KB lifecycle minimum: nothing transitions.
    e = cost.estimate(settings("prod"), management_events=1_000_000, data_events=0)
    assert "GLACIER storage" not in items(e, "S3")
    assert "lifecycle transitions to GLACIER" not in items(e, "S3")


def test_minimum_storage_duration_is_billed() -> None:
    s = settings("prod", complianceProfiles=["pci-dss"], archiveRetentionDays=365,
                 archiveTransitionDays=300, archiveStorageClass="DEEP_ARCHIVE")
    e = cost.estimate(s, management_events=1_000_000, data_events=10_000_000)
    daily_gb = 11_000_000 * 150 / 1e9 / cost.DAYS_PER_MONTH
    # 65 days in DEEP_ARCHIVE before expiry, billed as its 180-day minimum.
    expected = daily_gb * 180 * p("s3.storage.DEEP_ARCHIVE")
    assert items(e, "S3")["DEEP_ARCHIVE storage"] == pytest.approx(expected)
    assert any("bills at least 180 days" in note for note in e.assumptions)


def test_dev_keeps_everything_in_standard_without_kms() -> None:
    e = cost.estimate(settings("dev"), management_events=1_000_000, data_events=0)
    assert "KMS" not in e.services
    gb = 1_000_000 * 150 / 1e9 / cost.DAYS_PER_MONTH * 30 + 17 * 730 * 1200 / 1e9 / cost.DAYS_PER_MONTH * 30
    assert items(e, "S3")["STANDARD storage"] == pytest.approx(gb * p("s3.storage.STANDARD"))


def test_athena_is_optional_input() -> None:
    e = cost.estimate(settings("dev"), athena_tb=2.0)
    assert e.service_total("Athena") == pytest.approx(2 * p("athena.scanned"))


def test_logs_dir_measures_rate_size_and_compression(tmp_path) -> None:
    a = archive_factory.build_archive(tmp_path / "a", regions=("us-east-1",), hours=4, files_per_hour=3,
                                      events=10, backfill=False)
    m = cost.measure(a.root)
    assert m.files == 12 and m.management_events == 120 and m.data_events == 0
    assert m.compressed_bytes == sum(len(a.objects[k][0]) for k in a.logs["us-east-1"])
    e = cost.estimate(settings("prod"), measured=m)
    assert e.inputs["measured"] is True
    assert e.inputs["managementEventsPerMonth"] == round(120 * 730 / m.hours)
    assert e.inputs["bytesPerEvent"] == round(m.raw_bytes / 120)



def test_logs_dir_skips_a_file_whose_records_are_not_events(tmp_path, capsys) -> None:
    # A gzip JSON file under a log key whose Records are not objects is not a CloudTrail log file:
    # skipped with a warning naming it, like an unreadable one (no traceback).
    import gzip
    a = archive_factory.build_archive(tmp_path / "a", regions=("us-east-1",), hours=4, files_per_hour=3,
                                      events=10, backfill=False)
    odd = a.logs["us-east-1"][0]
    a.path(odd).write_bytes(gzip.compress(b'{"Records": [1, 2]}'))
    m = cost.measure(a.root)
    assert m.files == 11 and m.management_events == 110
    assert f"warning: --logs: skipped {odd}: not a CloudTrail log file" in capsys.readouterr().err

def test_cli_text_and_json(capsys) -> None:
    assert main(["cost", "--stack", "prod", "--management-events", "1000000", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["totalMonthlyUsd"] == pytest.approx(sum(s["monthlyUsd"] for s in out["services"].values()),
                                                   abs=0.02)
    assert main(["cost", "--stack", "prod"]) == 0
    text = capsys.readouterr().out
    assert "TOTAL" in text and "assumptions:" in text and "prices: us-east-1" in text


def test_cli_errors(capsys) -> None:
    assert main(["cost", "--stack", "staging"]) == 2
    assert "error: --stack staging: no Pulumi.staging.yaml; available: dev, prod" in capsys.readouterr().err
    assert main(["cost", "--stack", "prod", "--management-events", "lots"]) == 2
    assert "--management-events 'lots': not a whole number" in capsys.readouterr().err


@pytest.mark.parametrize(("option", "value"), [("--other-trails", "-2"), ("--athena-tb", "-1"),
                                               ("--athena-tb", "nan")])
def test_cli_negative_counts_name_the_option_and_value(capsys, option, value) -> None:
    assert main(["cost", "--stack", "dev", option, value]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"error: {option} {value}: use a finite number, 0 or more")


def comparison_table() -> str:
    """The README's table, from the command's JSON output."""
    runs = {}
    for volume, (mgmt, data) in VOLUMES.items():
        for stack in ("dev", "prod"):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                assert main(["cost", "--stack", stack, "--management-events", str(mgmt), "--data-events",
                             str(data), "--format", "json"]) == 0
            runs[(stack, volume)] = json.loads(out.getvalue())
    services = list(dict.fromkeys(name for r in runs.values() for name in r["services"]))
    cols = [(s, v) for v in VOLUMES for s in ("dev", "prod")]
    head = "| USD / month | " + " | ".join(f"{s}, {v}" for s, v in cols) + " |"
    lines = [head, "|---|" + "---:|" * len(cols)]
    for name in services:
        cells = [f"{runs[c]['services'][name]['monthlyUsd']:,.2f}" if name in runs[c]["services"] else "—"
                 for c in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("| **Total** | " + " | ".join(f"**{runs[c]['totalMonthlyUsd']:,.2f}**" for c in cols) + " |")
    return "\n".join(lines)


def test_readme_cost_table_matches_the_command() -> None:
    readme = (ROOT / "README.md").read_text()
    assert comparison_table() in readme
