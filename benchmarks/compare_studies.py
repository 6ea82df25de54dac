"""Do two finished studies reach the same verdicts? (e.g. trained on CUDA vs on the CPU)

    PYTHONPATH=src python benchmarks/compare_studies.py STUDY_A STUDY_B   (or the package installed)

STUDY_A and STUDY_B are project directories holding `results/tables/` of the same config
(apart from where it ran). Prints each model's test score in both, then, for every table with
predictions and verdicts, how many predictions match, the share with the same verdict, and
how far apart their effects are relative to STUDY_A's 95% CI width (`change`: the change from
step 0, or the trained effect where a prediction has no step-0 version, as `gateroles.stats`
stores it), and lists the predictions whose verdicts differ with both intervals.
"""

import argparse
from pathlib import Path

import pandas as pd

from gateroles.stats import VERDICT_COLUMNS
from gateroles.study import RUN_KEYS

PREDICTION_KEYS = VERDICT_COLUMNS[:6]  # claim, evidence, prediction, task, arch, init


def compare_runs(a: Path, b: Path) -> None:
    runs = pd.read_csv(a / "runs.csv").merge(pd.read_csv(b / "runs.csv"), on=RUN_KEYS,
                                             suffixes=("_a", "_b"))
    columns = RUN_KEYS + ["test_score_a", "test_score_b", "solved_a", "solved_b"]
    print(runs[columns].to_string(index=False), end="\n\n")


def compare_verdicts(name: str, x: pd.DataFrame, y: pd.DataFrame) -> None:
    both = x.merge(y, on=PREDICTION_KEYS, suffixes=("_a", "_b"))
    value, low, high = ({s: both[f"change{column}_{s}"] for s in "ab"}
                        for column in ("", "_ci_low", "_ci_high"))
    apart = ((value["a"] - value["b"]).abs() / (high["a"] - low["a"])).where(
        high["a"] > low["a"])
    same = both["verdict_a"] == both["verdict_b"]
    print(f"{name}: {len(both)} of {len(x)} / {len(y)} predictions matched; same verdict "
          f"{same.mean():.0%}; |effect a - effect b| / CI width: median {apart.median():.2f}, "
          f"max {apart.max():.2f}")
    for i in both.index[~same]:
        row = both.loc[i]
        print(f"   {row['prediction']} ({row['task']}, {row['arch']}): {row['verdict_a']} -> "
              f"{row['verdict_b']}; {value['a'][i]:.3f} [{low['a'][i]:.3f}, {high['a'][i]:.3f}]"
              f" vs {value['b'][i]:.3f} [{low['b'][i]:.3f}, {high['b'][i]:.3f}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study_a", type=Path)
    parser.add_argument("study_b", type=Path)
    args = parser.parse_args()
    a, b = (d / "results" / "tables" for d in (args.study_a, args.study_b))
    compare_runs(a, b)
    for path in sorted(a.glob("*.csv")):
        x = pd.read_csv(path)
        if {"verdict", "prediction"} <= set(x.columns) and len(x):
            compare_verdicts(path.name, x, pd.read_csv(b / path.name))


if __name__ == "__main__":
    main()
