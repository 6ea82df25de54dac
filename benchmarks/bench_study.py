"""Wall time of the whole default study, and the speed-up from 1 to 2 (or N) cores.

    python benchmarks/bench_study.py [--cores 1 2] [--configfile config/config.yaml]

Each run starts from an empty scratch directory (nothing cached) and runs
`snakemake --cores N` on the repository's Snakefile; the table prints wall seconds per core
count and the speed-up over the first.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_study(cores: int, configfile: str | None) -> float:
    with tempfile.TemporaryDirectory(prefix=f"gateroles-study-{cores}-") as workdir:
        cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"),
               "--directory", workdir, "--cores", str(cores), "-q"]
        if configfile:
            cmd += ["--configfile", str(Path(configfile).resolve())]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--configfile", default=None)
    args = parser.parse_args()
    times = {}
    for cores in args.cores:
        times[cores] = run_study(cores, args.configfile)
        print(f"--cores {cores}: {times[cores]:7.1f} s", flush=True)
    base = args.cores[0]
    for cores in args.cores[1:]:
        print(f"speed-up {base} -> {cores} cores: {times[base] / times[cores]:.2f}x")


if __name__ == "__main__":
    main()
