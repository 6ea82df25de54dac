"""Dry run of the paper-scale study (config/paper.yaml): must plan in at most 10 s.

    python benchmarks/bench_dryrun.py [--repeat 3] [--limit 10]

Runs `snakemake -n` in an empty temporary directory (nothing done yet, so every job is
planned) and prints the job count and the best wall-clock time; exits 1 above the limit.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def dry_run(workdir: str) -> tuple[float, int]:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory",
         workdir, "--configfile", str(REPO / "config" / "paper.yaml"), "-n", "--quiet", "rules"],
        capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    total = re.search(r"^total\s+(\d+)", result.stdout + result.stderr, re.MULTILINE)
    return seconds, int(total.group(1)) if total else -1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limit", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        runs = [dry_run(workdir) for _ in range(args.repeat)]
    best = min(s for s, _ in runs)
    print(f"paper-scale dry run: {runs[0][1]} jobs, best of {args.repeat}: {best:.2f} s "
          f"(limit {args.limit:g} s)")
    return 0 if best <= args.limit else 1


if __name__ == "__main__":
    sys.exit(main())
