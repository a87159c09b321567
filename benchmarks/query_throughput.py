"""Benchmark: ``spawn_audit query`` (DuckDB) against spawn's documented ``gunzip -c ... | jq`` pipeline.

Generates a CloudTrail archive of at least ``--size-gb`` uncompressed (default 1.0) in a temporary
directory (never in the repository), laid out as in S3, then times on the same files in the same
run, as fresh processes, each ``--runs`` times (medians):

* jq -- the seed's count of launches per user:
  ``gunzip -c FILES | jq -r '.Records[] | select(.eventName == "RunInstances") | .userIdentity.arn'
  | sort | uniq -c``;
* query -- ``python -m spawn_audit query launches-by-user --logs DIR`` (the same count, straight from
  the gzipped JSON, no cache);
* cache, first -- the same with ``--cache-dir`` (materialises each day as Parquet, then answers);
* cache, again -- the same query again on the same range, from the cache;
* cache, other -- another catalog query (``untagged-launches``, which parses every launch's
  request parameters) on the same range, from the cache.

Both answers are compared, so a fast wrong answer cannot win. Prints events per second, the
ratio to jq and the load average before and after (on a shared machine other processes hold cores
while this runs); nothing here asserts a timing. Needs ``jq`` (Debian: ``apt-get install -y jq``).

    python benchmarks/query_throughput.py [--size-gb 1.0] [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "tools")]

import cloudtrail_archive as ca  # noqa: E402

JQ_FILTER = '.Records[] | select(.eventName == "RunInstances") | .userIdentity.arn'
DISTINCT_FILES = 12  # distinct payloads, copied under every day directory
EVENTS_PER_FILE = 8000  # about 7 MB uncompressed: a busy account's 5-minute file


def build(root: Path, size_bytes: int) -> tuple[int, int, int]:
    """Write the archive; returns (files, events, uncompressed bytes)."""
    payloads: list[tuple[bytes, int, int]] = []
    scratch = root / "scratch"
    for seed in range(DISTINCT_FILES):
        arc = ca.generate(scratch / str(seed), seed=seed, events_per_file=EVENTS_PER_FILE,
                          files_per_day=1, days=ca.DAYS[:1], keep_events=False)
        first = arc.files[0]
        with gzip.open(first, "rb") as fh:
            raw = fh.read()
        payloads.append((first.read_bytes(), EVENTS_PER_FILE, len(raw)))
    shutil.rmtree(scratch)
    files = events = total = 0
    day = dt.date(2026, 1, 1)
    while total < size_bytes:
        for account in ca.ACCOUNTS:
            for region in ca.REGIONS:
                payload, count, raw_size = payloads[files % len(payloads)]
                target = ca.day_dir(root / "logs", account, region, day)
                target.mkdir(parents=True, exist_ok=True)
                name = f"{account}_CloudTrail_{region}_{day:%Y%m%d}T0000Z_{files:06d}.json.gz"
                (target / name).write_bytes(payload)
                files, events, total = files + 1, events + count, total + raw_size
        day += dt.timedelta(days=1)
    return files, events, total


def timed(command: list[str] | str, *, shell: bool = False) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, shell=shell, capture_output=True, text=True, check=True, cwd=REPO,
                          executable="/bin/bash" if shell else None)
    return time.perf_counter() - start, done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=1.0,
                        help="uncompressed archive size (default 1.0)")
    parser.add_argument("--runs", type=int, default=3, help="runs per command; medians are shown")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    jq = shutil.which("jq")
    if jq is None:
        print("error: jq is not installed; install it from Debian's packages: apt-get install -y jq",
              file=sys.stderr)
        return 2
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="spawn-audit-bench-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        files, events, raw = build(root, int(args.size_gb * 1e9))
        print(f"archive: {files} files, {events:,} events, {raw / 1e9:.2f} GB uncompressed, "
              f"{sum(f.stat().st_size for f in (root / 'logs').rglob('*.json.gz')) / 1e6:.0f} MB gzipped "
              f"(generated in {time.perf_counter() - started:.0f} s)", file=sys.stderr)
        logs = root / "logs"
        jq_cmd = (f"find {logs} -path '*/CloudTrail/*' -name '*.json.gz' -print0 | xargs -0 gunzip -c "
                  f"| {jq} -r '{JQ_FILTER}' | sort | uniq -c")
        query = [python, "-m", "spawn_audit", "query", "launches-by-user", "--logs", str(logs),
                 "--format", "json"]

        load_before = os.getloadavg()
        jq_times, query_times, first_times, again_times, second_times = [], [], [], [], []
        jq_counts: dict[str, int] = {}
        query_counts: dict[str, int] = {}
        for _ in range(args.runs):
            seconds, out = timed(jq_cmd, shell=True)
            jq_times.append(seconds)
            jq_counts = {line.split(None, 1)[1]: int(line.split(None, 1)[0]) for line in out.splitlines()}
            seconds, out = timed(query)
            query_times.append(seconds)
            query_counts = {r["user_arn"]: r["launches"] for r in json.loads(out)}
            cache = root / "cache"
            shutil.rmtree(cache, ignore_errors=True)
            seconds, _ = timed(query + ["--cache-dir", str(cache)])
            first_times.append(seconds)
            seconds, _ = timed(query + ["--cache-dir", str(cache)])
            again_times.append(seconds)
            seconds, _ = timed([python, "-m", "spawn_audit", "query", "untagged-launches",
                                "--logs", str(logs), "--format", "json", "--cache-dir", str(cache)])
            second_times.append(seconds)
        if jq_counts != query_counts:
            print(f"error: answers differ: jq {jq_counts} vs query {query_counts}", file=sys.stderr)
            return 1

    load_after = os.getloadavg()
    samples = {"jq": jq_times, "query": query_times, "cache_first": first_times, "cache_again": again_times,
               "cache_second": second_times}
    med = {k: statistics.median(v) for k, v in samples.items()}
    figures = {
        "files": files, "events": events, "uncompressed_gb": round(raw / 1e9, 3), "runs": args.runs,
        "cpus": os.cpu_count(),
        "load_average_1min": {"before": round(load_before[0], 1), "after": round(load_after[0], 1)},
        "seconds": {k: round(v, 2) for k, v in med.items()},
        "events_per_second": {k: round(events / v) for k, v in med.items()},
        "query_vs_jq": round(med["jq"] / med["query"], 2),
        "repeat_query_vs_jq": round(med["jq"] / med["cache_again"], 1),
        "other_query_vs_jq": round(med["jq"] / med["cache_second"], 1),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"{'command':<44} {'median s':>9} {'events/s':>12} {'vs jq':>7}")
    labels = {
        "jq": "gunzip -c | jq | sort | uniq -c (seed)",
        "query": "query launches-by-user (JSON, no cache)",
        "cache_first": "query launches-by-user --cache-dir (1st)",
        "cache_again": "query launches-by-user --cache-dir (again)",
        "cache_second": "query untagged-launches --cache-dir (other)",
    }
    for key, label in labels.items():
        print(f"{label:<44} {med[key]:>9.2f} {events / med[key]:>12,.0f} {med['jq'] / med[key]:>6.1f}x")
    print(f"same answer from both: {len(jq_counts)} users, {sum(jq_counts.values()):,} launches")
    print(f"{os.cpu_count()} CPUs; load average (1 min) {load_before[0]:.1f} before, "
          f"{load_after[0]:.1f} after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
