"""Benchmark: ``verify`` against a single-threaded hash-and-verify loop over the same archive.

Generates (in a temporary directory, deleted afterwards) a signed archive of at least 10,000 log
files with the test archive factory, warms the page cache, then times in the same run:

* the peer: one thread walks each chain, verifies each digest's RSA signature and hashes each listed
  log file in turn, the way ``aws cloudtrail validate-logs`` proceeds;
* ``spawn_audit.verify.verify`` with its default worker threads (one per CPU), and with one
  thread, doing the same checks plus chain continuity and the search for missing digests.

Prints files/s and MB/s (compressed bytes read) for both, and the ratio, and the load average
before and after (threads cannot use a core that other processes hold). Prints figures only;
each is the best of ``--rounds`` interleaved runs, because a shared machine's load comes and goes.

    python benchmarks/verify_throughput.py [--files 10000] [--events 100] [--jobs N] [--rounds 3]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "tools")]

import archive_factory  # noqa: E402

from spawn_audit import digest as fmt  # noqa: E402
from spawn_audit import verify  # noqa: E402


def single_threaded(root: Path, keys: dict[str, fmt.PublicKey]) -> tuple[int, int, int]:
    """(digests, log files, compressed bytes): validate-logs' order, one file after another."""
    digests = files = size = 0
    for key in sorted(fmt.iter_keys(root)):
        if not fmt.DIGEST_KEY.match(key):
            continue
        path = root / key
        body, sha, _ = fmt.read_digest(path)
        meta = fmt.read_metadata(path) or {}
        public = keys[body["digestPublicKeyFingerprint"]]
        if not fmt.verify_signature(public.key, meta["signature"], fmt.signing_string(body, sha)):
            raise SystemExit(f"benchmark archive is not intact: {key}")
        digests += 1
        for entry in body["logFiles"]:
            actual, n = fmt.sha256_gzip_file(root / entry["s3Object"])
            if actual != entry["hashValue"]:
                raise SystemExit(f"benchmark archive is not intact: {entry['s3Object']}")
            files += 1
            size += n
    return digests, files, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100, help="events per log file")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (best is kept)")
    args = parser.parse_args()
    regions = ("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2")
    per_hour = 12  # one file about every five minutes
    hours = math.ceil(args.files / (len(regions) * per_hour))
    with tempfile.TemporaryDirectory(prefix="verify-bench-") as tmp:
        root = Path(tmp) / "archive"
        t0 = time.perf_counter()
        archive = archive_factory.build_archive(root, regions=regions, hours=hours, files_per_hour=per_hour,
                                                events=args.events, pad=64, backfill=False)
        built = time.perf_counter() - t0
        keys_file = archive.write_public_keys(Path(tmp) / "keys.json")
        keys = verify.keys_from_file(keys_file)
        n_files = sum(len(v) for v in archive.logs.values())
        total = sum(len(archive.objects[k][0]) for v in archive.logs.values() for k in v)
        print(f"archive: {n_files} log files, {len(regions) * hours} digests, "
              f"{total / 1e6:.1f} MB compressed (built in {built:.1f} s); cpus={os.cpu_count()}, "
              f"load average {os.getloadavg()[0]:.1f}")
        single_threaded(root, keys)  # warm the page cache for both runs

        # Interleaved rounds, best of each: the machine may be shared, and load comes and goes.
        single = threaded = one_thread = float("inf")
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            _, files, size = single_threaded(root, keys)
            single = min(single, time.perf_counter() - t0)
            t0 = time.perf_counter()
            report = verify.verify(root, keys, jobs=args.jobs)
            threaded = min(threaded, time.perf_counter() - t0)
            t0 = time.perf_counter()
            verify.verify(root, keys, jobs=1)
            one_thread = min(one_thread, time.perf_counter() - t0)
        assert report.ok and report.log_files == files == n_files, report.findings[:3]
        for label, seconds in (("single-threaded loop (validate-logs' way)", single),
                               ("spawn_audit verify (jobs=1)", one_thread),
                               (f"spawn_audit verify (jobs={args.jobs or os.cpu_count()})", threaded)):
            print(f"{label:<45} {seconds:7.2f} s  {files / seconds:9.0f} files/s  "
                  f"{size / 1e6 / seconds:7.1f} MB/s")
        print(f"threads: verify with {args.jobs or os.cpu_count()} threads is {one_thread / threaded:.2f}x "
              f"verify with one")
        print(f"ratio: verify is {single / threaded:.2f}x the single-threaded loop "
              f"(and also checks chain continuity and missing digests); "
              f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
