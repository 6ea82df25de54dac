"""Benchmark: all-pairs binned MI vs. per-pair scikit-learn KSG, single-threaded.

Default size is one checkpoint of the project: N = 20,000 samples of 96 gate-unit codes
(3 gates x 32 units), values = sigmoid of correlated Gaussians (float32, ~9% of values
within 1e-3 of 0 or 1).
``pairwise_mutual_information`` is timed over all code pairs (best of ``--repeats``);
sklearn's ``mutual_info_regression`` (KSG, n_neighbors=3) is timed on a random sample of
pairs and extrapolated to all p (p - 1) / 2 pairs. Target: all pairs < 1 s on one core and
>= 100x faster than per-pair sklearn KSG.

    python benchmarks/bench_information.py [--n-samples 20000] [--gates 3] [--units 32]
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "BLIS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = "1"  # before numpy is imported: one core

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.feature_selection import mutual_info_regression  # noqa: E402

from gateroles.information import (  # noqa: E402
    default_bins,
    mutual_information,
    pairwise_mutual_information,
)


def make_codes(n: int, n_codes: int, seed: int) -> np.ndarray:
    """Sigmoid of correlated Gaussians (shared low-rank part + private noise), float32."""
    rng = np.random.default_rng(seed)
    shared = rng.standard_normal((n, 8)) @ rng.standard_normal((8, n_codes)) / np.sqrt(8)
    pre = 4.0 * (0.6 * shared + 0.8 * rng.standard_normal((n, n_codes)))
    return (1.0 / (1.0 + np.exp(-pre))).astype(np.float32)


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def time_pairs(fn, pairs) -> float:
    start = time.perf_counter()
    for i, j in pairs:
        fn(i, j)
    return (time.perf_counter() - start) / len(pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-samples", type=int, default=20_000)
    parser.add_argument("--gates", type=int, default=3)
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sample-pairs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    n, p = args.n_samples, args.gates * args.units
    codes = make_codes(n, p, args.seed)
    n_pairs = p * (p - 1) // 2
    rng = np.random.default_rng(args.seed)
    iu = np.transpose(np.triu_indices(p, k=1))
    pairs = iu[rng.choice(len(iu), size=min(args.sample_pairs, len(iu)), replace=False)]
    saturated = np.mean(np.minimum(codes, 1 - codes) < 1e-3)

    rows = []
    for bins in sorted({16, default_bins(n)}):
        t = best_of(lambda b=bins: pairwise_mutual_information(codes, bins=b), args.repeats)
        rows.append((f"pairwise binned, {bins} bins (all pairs)", t, t / n_pairs))

    def sk(i, j):
        mutual_info_regression(codes[:, [i]], codes[:, j], n_neighbors=3, random_state=0)

    def ours(i, j):
        mutual_information(codes[:, i], codes[:, j], method="ksg", k=3)

    for name, fn in (("sklearn KSG k=3", sk), ("gateroles KSG k=3", ours)):
        per_pair = time_pairs(fn, pairs)
        rows.append((f"{name} (extrapolated)", per_pair * n_pairs, per_pair))

    print(f"N = {n}, codes = {args.gates} x {args.units} = {p}, pairs = {n_pairs}, "
          f"within 1e-3 of 0/1: {saturated:.1%}, threads = 1, KSG sampled on {len(pairs)} pairs")
    reference = rows[-2][1]
    print(f"{'method':<44} {'all pairs [s]':>14} {'per pair [ms]':>14} {'sklearn / this':>15}")
    for name, total, per_pair in rows:
        print(f"{name:<44} {total:>14.3f} {1e3 * per_pair:>14.4f} {reference / total:>15.1f}")


if __name__ == "__main__":
    main()
