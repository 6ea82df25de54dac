"""Time all probes of one synthetic checkpoint on one thread, against a scikit-learn baseline.

Data: a random numpy LSTM (no training, no torch) run on random token sequences gives realistic,
often saturated gate activations.  Sources: input, forget, cell-candidate and output gates, cell
state, hidden state (``units`` each) and the input-only one-hot window (3 x n_types).  Variables:
three binary (reset token, reset within the last 5 steps, parity of 1-tokens since the last
reset) and one 5-class (last token >= 5, as 0..4; 0 before any).  Each (source, variable) pair
is probed on the task and on the control labels.

Baseline: ``cross_val_score(make_pipeline(StandardScaler(), LogisticRegressionCV(...)), X, y,
groups=groups, cv=GroupKFold(5))`` on ``--n-baseline`` probes, extrapolated to all probes.

Usage: python benchmarks/bench_probes.py [--n-seq 200 --n-steps 100 --units 32 --n-baseline 3]
"""

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegressionCV  # noqa: E402
from sklearn.model_selection import GroupKFold, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from gateroles import probes  # noqa: E402


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def random_lstm(tokens, n_types, units, rng):
    """Gate, cell and hidden activations [N, T, units] of a random LSTM."""
    n, t = tokens.shape
    w_in = rng.normal(scale=2.0, size=(n_types, 4 * units))
    w_rec = rng.normal(scale=1.5 / np.sqrt(units), size=(units, 4 * units))
    bias = rng.normal(size=4 * units)
    h, c = np.zeros((n, units)), np.zeros((n, units))
    out = {k: np.zeros((n, t, units)) for k in ("i", "f", "g", "o", "cell", "hidden")}
    for step in range(t):
        pre = w_in[tokens[:, step]] + h @ w_rec + bias
        i, f, o = (_sigmoid(pre[:, k * units : (k + 1) * units]) for k in (0, 1, 3))
        g = np.tanh(pre[:, 2 * units : 3 * units])
        c = f * c + i * g
        h = o * np.tanh(c)
        for key, val in zip(out, (i, f, g, o, c, h), strict=True):
            out[key][:, step] = val
    return out


def task_variables(tokens):
    """Three binary variables and one 5-class variable, each [N, T]."""
    reset = tokens == 0
    n, t = tokens.shape
    recent = np.zeros_like(reset)
    parity = np.zeros((n, t), dtype=int)
    memory = np.zeros((n, t), dtype=int)
    count, mem = np.zeros(n, dtype=int), np.zeros(n, dtype=int)
    for step in range(t):
        recent[:, step] = reset[:, max(0, step - 4) : step + 1].any(axis=1)
        count = np.where(reset[:, step], 0, count + (tokens[:, step] == 1))
        mem = np.where(tokens[:, step] >= 5, tokens[:, step] - 5, mem)
        parity[:, step], memory[:, step] = count % 2, mem
    return {"reset": reset.astype(int), "recent_reset": recent.astype(int),
            "parity": parity, "memory": memory}


def make_checkpoint(n_seq, n_steps, units, n_types, seed):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, n_types, size=(n_seq, n_steps))
    sources = {k: probes.flatten(v) for k, v in random_lstm(tokens, n_types, units, rng).items()}
    sources["input_window"] = probes.input_window_features(tokens, n_types, window=3)
    variables = {k: probes.flatten(v) for k, v in task_variables(tokens).items()}
    return sources, variables, probes.flatten(tokens), probes.sequence_groups(n_seq, n_steps)


def sklearn_probe(X, y, groups):
    model = make_pipeline(
        StandardScaler(),
        LogisticRegressionCV(Cs=8, cv=4, l1_ratios=(0.0,), scoring="balanced_accuracy",
                             class_weight="balanced", max_iter=200,
                             use_legacy_attributes=False),
    )
    scores = cross_val_score(model, X, y, groups=groups, cv=GroupKFold(5),
                             scoring="balanced_accuracy")
    return float(scores.mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-seq", type=int, default=200)
    parser.add_argument("--n-steps", type=int, default=100)
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--n-types", type=int, default=10)
    parser.add_argument("--n-baseline", type=int, default=3, help="probes timed with sklearn")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    sources, variables, tokens, groups = make_checkpoint(
        args.n_seq, args.n_steps, args.units, args.n_types, args.seed)
    n_samples = len(groups)
    with threadpool_limits(limits=1):
        probes.probe(sources["hidden"], variables["reset"], groups)  # warm-up
        results, start = [], time.perf_counter()
        for src, X in sources.items():
            for var, y in variables.items():
                res = probes.selectivity(X, y, groups, tokens, "classification", args.seed)
                results.append((src, var, res))
        total = time.perf_counter() - start
        n_probes = 2 * len(results)

        pairs = [(s, v) for s in sources for v in variables][: args.n_baseline]
        start, baseline = time.perf_counter(), []
        for src, var in pairs:
            baseline.append(sklearn_probe(sources[src], variables[var], groups))
        base_time = time.perf_counter() - start

    print(f"samples {n_samples}, sources {len(sources)}, variables {len(variables)}, "
          f"probes {n_probes} (task + control), 1 thread")
    print(f"{'source':>13} {'variable':>13} {'task':>6} {'control':>7} {'select.':>7}")
    for src, var, res in results:
        print(f"{src:>13} {var:>13} {res['task']:6.3f} {res['control']:7.3f} "
              f"{res['selectivity']:7.3f}")
    per_probe = total / n_probes
    base_per_probe = base_time / len(pairs)
    print(f"\ngateroles.probes: total {total:.2f} s, {1e3 * per_probe:.1f} ms per probe")
    print(f"sklearn LogisticRegressionCV baseline: {1e3 * base_per_probe:.0f} ms per probe "
          f"({len(pairs)} probes timed), extrapolated {base_per_probe * n_probes:.1f} s "
          f"for {n_probes} probes; ratio {base_per_probe / per_probe:.0f}x")
    ours = {(s, v): r["task"] for s, v, r in results}
    for (src, var), score in zip(pairs, baseline, strict=True):
        print(f"  {src}/{var}: balanced accuracy ridge {ours[src, var]:.3f}, "
              f"logistic {score:.3f}")


if __name__ == "__main__":
    main()
