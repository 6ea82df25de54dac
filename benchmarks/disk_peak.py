"""The disk a run takes: the size of `results/` sampled every second during a Snakemake run.

    python benchmarks/disk_peak.py [--directory DIR] [--every 1] [-- SNAKEMAKE ARGS...]

Runs `python -m snakemake --directory DIR SNAKEMAKE ARGS` (default `--cores 2`) from the
project root (this checkout's Snakefile, its jobs importing this checkout's `gateroles`) and
prints the peak and the final size of DIR/results (file sizes summed, as `du -s
--apparent-size`), with the gate files' share of each. The peak is what a disk must hold: a
study whose gate files are temporary ends smaller than it peaks. Sizes are read by walking the
folder, so a file that lives for less than the sampling interval may be missed.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GATE_FILES = ("gates.npz", "frozen_gates.npz")


def sizes(root: Path) -> tuple[int, int]:
    """(all bytes, gate-file bytes) of the files under `root` (0, 0 while it does not exist)."""
    total = gates = 0
    for folder, _, files in os.walk(root):
        for name in files:
            try:
                size = os.stat(os.path.join(folder, name), follow_symlinks=False).st_size
            except FileNotFoundError:  # removed while walking (a temporary file)
                continue
            total += size
            gates += size if name.endswith(GATE_FILES) else 0
    return total, gates


def run(directory: Path, args: list[str], every: float) -> dict:
    """Snakemake with `args` in `directory`, sampled every `every` seconds."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])}
    command = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"),
               "--directory", str(directory), *args]
    results = directory / "results"
    peak, start = (0, 0, 0.0), time.monotonic()
    job = subprocess.Popen(command, env=env)
    while job.poll() is None:
        total, gates = sizes(results)
        if total > peak[0]:
            peak = (total, gates, time.monotonic() - start)
        time.sleep(every)
    end = sizes(results)
    return {"returncode": job.returncode, "peak": peak, "end": end,
            "seconds": time.monotonic() - start}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--directory", type=Path, default=Path("."),
                        help="Snakemake's working directory (its results/ is measured)")
    parser.add_argument("--every", type=float, default=1.0, help="seconds between samples")
    parser.add_argument("snakemake", nargs="*", default=["--cores", "2"],
                        help="arguments for Snakemake (after --)")
    args = parser.parse_args()
    out = run(args.directory.resolve(), args.snakemake, args.every)
    (peak, peak_gates, when), (end, end_gates) = out["peak"], out["end"]
    mb = 1e6
    print(f"peak {peak / mb:,.1f} MB (gate files {peak_gates / mb:,.1f} MB) at "
          f"{when:.0f} s; end {end / mb:,.1f} MB (gate files {end_gates / mb:,.1f} MB); "
          f"{out['seconds']:.0f} s, snakemake exit code {out['returncode']}")
    sys.exit(out["returncode"])


if __name__ == "__main__":
    main()
