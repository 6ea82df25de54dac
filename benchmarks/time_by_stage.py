"""Where a finished study's time went: its jobs' benchmark files summed per stage.

    python benchmarks/time_by_stage.py [PROJECT]      (PROJECT: where `results/` is; default .)

Every job writes `results/benchmarks/<rule>/<task>/<arch>/<init>.tsv` (per grid cell) or
`results/benchmarks/<rule>.tsv` (Snakemake's `benchmark:` files). Prints, per stage (a rule; the
figures and the aggregations each as one), the jobs, their wall seconds and CPU seconds, then
the totals: on N busy cores the study's wall time is about the total wall seconds / N.
"""

import argparse
from pathlib import Path

import pandas as pd


def stage(path: Path, root: Path) -> str:
    rule = path.relative_to(root).parts[0].removesuffix(".tsv")
    return "figures" if rule.startswith("fig_") else (
        "aggregation" if rule.startswith("aggregate_") else rule)


def time_by_stage(project: Path) -> pd.DataFrame:
    root = project / "results" / "benchmarks"
    rows = [{"stage": stage(path, root), **pd.read_csv(path, sep="\t").iloc[-1]}
            for path in sorted(root.rglob("*.tsv"))]
    if not rows:
        raise SystemExit(f"no benchmark files under {root}")
    table = pd.DataFrame(rows).groupby("stage").agg(
        jobs=("s", "size"), wall_s=("s", "sum"), cpu_s=("cpu_time", "sum"))
    table = table.sort_values("wall_s", ascending=False)
    table.loc["total"] = table.sum()
    return table.round(0).astype(int)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", type=Path, default=Path("."))
    print(time_by_stage(parser.parse_args().project).to_string())


if __name__ == "__main__":
    main()
