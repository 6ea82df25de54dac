"""Wall time of the whole default study: against another checkout, and from 1 to N cores.

    python benchmarks/bench_study.py [--cores 1 2] [--baseline PATH] [--repeats 1]
                                     [--configfile config/config.yaml]

Each run starts from an empty scratch directory (nothing cached) and runs `snakemake --cores N`
on a repository's Snakefile, its jobs importing that repository's `gateroles` (PYTHONPATH).
With `--baseline PATH` (e.g. a `git worktree add /tmp/base <commit>` of the previous main) the
two checkouts are run alternately at every core count, so both see the same machine, and the
table ends with this checkout's time as a ratio of the baseline's. Without it: wall seconds per
core count and the speed-up over the first.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_study(repo: Path, cores: int, configfile: str | None) -> float:
    env = {**os.environ, "PYTHONPATH": str(repo / "src")}
    with tempfile.TemporaryDirectory(prefix=f"gateroles-study-{cores}-") as workdir:
        cmd = [sys.executable, "-m", "snakemake", "-s", str(repo / "Snakefile"),
               "--directory", workdir, "--cores", str(cores), "-q"]
        if configfile:
            cmd += ["--configfile", str(Path(configfile).resolve())]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
        return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another checkout of the project to compare with")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--configfile", default=None)
    args = parser.parse_args()
    repos = {"this": REPO} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    times = {(name, cores): [] for name in repos for cores in args.cores}
    for _ in range(args.repeats):
        for cores in args.cores:
            for name, repo in repos.items():
                seconds = run_study(repo, cores, args.configfile)
                times[name, cores].append(seconds)
                print(f"{name:8s} --cores {cores}: {seconds:7.1f} s", flush=True)
    best = {key: min(values) for key, values in times.items()}
    for cores in args.cores:
        if args.baseline:
            ratio = best["this", cores] / best["baseline", cores]
            print(f"--cores {cores}: this {best['this', cores]:.1f} s, baseline "
                  f"{best['baseline', cores]:.1f} s, ratio {ratio:.2f}x")
    base = args.cores[0]
    for name in repos:
        for cores in args.cores[1:]:
            print(f"{name}: speed-up {base} -> {cores} cores: "
                  f"{best[name, base] / best[name, cores]:.2f}x")


if __name__ == "__main__":
    main()
