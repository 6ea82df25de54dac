"""C7 (gateroles.analyses.emergence): the push each gate receives at its events.

Known answers: each gate's pre-activation gradient equals autograd's through a textbook
recurrence with offsets on the pre-activations, and finite differences through the fast
recurrence (LSTM, and the GRU in PyTorch's convention h = (1 - z) n + z h_prev); a network whose
only error at a reset comes from a stale memory pushes its forget gate toward closing and not
its input gate, and one whose error comes from the write pushes the input gate; the replay of
the first steps reproduces training; a shuffled baseline rarely passes.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from gateroles import extraction, interventions, stats, tasks
from gateroles.analyses.emergence import Settings, aggregate, measure
from gateroles.config import validate
from gateroles.models import RecurrentModel, build_model
from gateroles.pipeline import RunInputs
from gateroles.study import Run
from gateroles.training import train_run

SETTINGS = stats.Settings(bootstrap_samples=200, confidence=0.95, min_seeds=5)


def reference_gradients(model, x, targets, mask, kind):
    """dL/d(pre-activation) of every gate by autograd through a textbook recurrence with a
    zero offset on each gate's pre-activation (independent of the measure's formulas)."""
    rnn = model.rnn
    n, t_len, _ = x.shape
    h_size = rnn.hidden_size
    cell = model.spec.cell
    names = ("input", "forget", "cell_candidate", "output") if cell == "lstm" else (
        "reset", "update", "candidate")
    eps = {g: torch.zeros(n, t_len, h_size, requires_grad=True) for g in names}
    w_ih, w_hh, b_ih, b_hh = (getattr(rnn, f"{k}_l0") for k in
                              ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
    h = torch.zeros(n, h_size)
    c = torch.zeros(n, h_size)
    outs = []
    for t in range(t_len):
        xp = x[:, t] @ w_ih.T + b_ih
        hp = h @ w_hh.T + b_hh
        if cell == "lstm":
            z = (xp + hp).split(h_size, dim=1)
            i, f, o = (torch.sigmoid(z[k] + eps[names[k]][:, t]) for k in (0, 1, 3))
            g = torch.tanh(z[2] + eps["cell_candidate"][:, t])
            c = f * c + i * g
            h = o * torch.tanh(c)
        else:
            xr, xz, xn = xp.split(h_size, dim=1)
            hr, hz, hn = hp.split(h_size, dim=1)
            r = torch.sigmoid(xr + hr + eps["reset"][:, t])
            u = torch.sigmoid(xz + hz + eps["update"][:, t])
            nn_ = torch.tanh(xn + r * hn + eps["candidate"][:, t])
            h = (1 - u) * nn_ + u * h
        outs.append(model.readout(h))
    loss = measure.scored_loss(torch.stack(outs, dim=1), targets, mask, kind)
    return dict(zip(names, torch.autograd.grad(loss, list(eps.values())), strict=True))


@pytest.mark.parametrize("arch", ["lstm", "gru"])
def test_gate_gradients_equal_autograd_through_a_textbook_recurrence(arch):
    model = build_model(arch, 5, 6, 3, "default", 12, seed=3)
    rng = np.random.default_rng(0)
    x = torch.as_tensor(rng.normal(size=(4, 12, 5)), dtype=torch.float32)
    targets = rng.integers(0, 3, size=(4, 12))
    mask = rng.random((4, 12)) < 0.4
    acts, grads = measure.gate_gradients(model, x, targets, mask, "classification")
    reference = reference_gradients(model, x, targets, mask, "classification")
    for gate, value in grads.items():
        assert torch.allclose(value, reference[gate], atol=1e-6, rtol=1e-4), gate
    assert set(grads) == ({"input", "forget", "output"} if arch == "lstm"
                          else {"reset", "update"})


@pytest.mark.parametrize("arch", ["lstm", "gru"])
def test_gate_gradient_signs_match_finite_differences_through_the_fast_recurrence(arch):
    """Nudge one gate's pre-activation at one step and unit inside the fast (non-autograd)
    recurrence (a clamp to sigmoid(logit +- eps)): the loss moves as the gradient says."""
    model = build_model(arch, 5, 6, 1, "default", 10, seed=1)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 10, 5)).astype(np.float32)
    targets = rng.normal(size=(3, 10)).astype(np.float32)
    mask = np.zeros((3, 10), dtype=bool)
    mask[:, -1] = True
    _, grads = measure.gate_gradients(model, x, targets, mask, "regression")
    free = interventions.forward(model, x, preactivations=True)

    def loss(clamp):
        out = interventions.forward(model, x, clamp)["outputs"]
        return float(measure.scored_loss(torch.as_tensor(out), targets, mask, "regression"))

    eps = 1e-2
    for gate, grad in grads.items():
        g = grad.numpy()
        for flat in np.argsort(-np.abs(g).ravel())[:3]:
            n, t, u = np.unravel_index(flat, g.shape)
            where = np.zeros(g.shape, dtype=bool)
            where[n, t, u] = True
            logit = free[f"{gate}_logit"][n, t, u]
            plus = loss({gate: (where, 1 / (1 + np.exp(-(logit + eps))))})
            minus = loss({gate: (where, 1 / (1 + np.exp(-(logit - eps))))})
            numeric = (plus - minus) / (2 * eps)
            assert np.sign(numeric) == np.sign(g[n, t, u]), (gate, numeric, g[n, t, u])
            assert numeric == pytest.approx(g[n, t, u], rel=0.05, abs=1e-5)


# Tokens of the hand-built networks: STORE+ (writes +1), STORE- (writes -1), RESET, QUERY,
# a distractor.
STORE_P, STORE_M, RESET, QUERY, OTHER = range(5)


def hand_lstm(candidate_at_reset: float) -> RecurrentModel:
    """One unit: STORE+- opens the input gate and writes +-1 (forget closed), RESET leaves
    the forget and input gates at 0.5 (their steepest) and writes `candidate_at_reset`, every
    other token keeps the cell (f = 1, i = 0); the output gate is open and the read-out is h."""
    model = RecurrentModel("lstm", 5, 1, 1)
    big = 12.0
    #                 STORE+ STORE- RESET QUERY OTHER
    logits = {"input": [big, big, 0.0, -big, -big],
              "forget": [-big, -big, 0.0, big, big],
              "cell_candidate": [big, -big, float(np.arctanh(candidate_at_reset)), 0.0, 0.0],
              "output": [big] * 5}
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        for k, gate in enumerate(("input", "forget", "cell_candidate", "output")):
            model.rnn.weight_ih_l0[k] = torch.tensor(logits[gate])
        model.readout.weight.fill_(1.0)
    return model.eval()


def hand_gru() -> RecurrentModel:
    """One unit, PyTorch's convention h = (1 - z) n + z h_prev: STORE+- overwrites (z = 0)
    with +-1, RESET sets z = 0.5 with candidate 0, every other token keeps (z = 1)."""
    model = RecurrentModel("gru", 5, 1, 1)
    big = 12.0
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.rnn.weight_ih_l0[1] = torch.tensor([-big, -big, 0.0, big, big])  # update z
        model.rnn.weight_ih_l0[2] = torch.tensor([big, -big, 0.0, 0.0, 0.0])  # candidate n
        model.readout.weight.fill_(1.0)
    return model.eval()


def episodes(first_tokens):
    """Sequences STORE/none, OTHER, RESET, OTHER, QUERY; the answer after a RESET is 0, scored
    at the query only (regression)."""
    tokens = np.array([[first, OTHER, RESET, OTHER, QUERY] for first in first_tokens])
    x = np.eye(5, dtype=np.float32)[tokens]
    targets = np.zeros(tokens.shape, dtype=np.float32)
    mask = tokens == QUERY
    at = tokens == RESET
    quiet = np.zeros_like(at)
    quiet[:, 3] = True  # the OTHER between the RESET and the query (same lag, one step less)
    return x, targets, mask, at, quiet


def pushes(model, arch, first_tokens):
    x, targets, mask, at, quiet = episodes(first_tokens)
    acts, grads = measure.gate_gradients(model, x, targets, mask, "regression")
    rows = measure.push_rows(acts, grads, {"reset": (at, quiet)}, arch)
    return {r["gate"]: r["push"] for r in rows}


def test_a_stale_memory_at_a_reset_pushes_the_forget_gate_to_close_not_the_input_gate():
    """The only error after the RESET is the stale memory (the RESET writes nothing): the
    forget gate, whose gradient is dL/dc * c_prev, is pushed toward closing; the input gate,
    whose gradient is dL/dc * g = 0 there, is not pushed at all."""
    push = pushes(hand_lstm(0.0), "lstm", [STORE_P, STORE_M, STORE_P, STORE_M])
    assert push["forget"] > 1e-3
    assert abs(push["input"]) < 1e-6 * push["forget"]
    sizes = {gate: abs(value) for gate, value in push.items()}
    assert aggregate.push_share(pd.Series(push), pd.Series(sizes), "forget") == pytest.approx(
        1.0, abs=1e-3)


def test_an_error_from_the_write_pushes_the_input_gate_and_not_the_forget_gate():
    """The memory is empty before the RESET and the RESET writes 0.5: the error comes from the
    write, so the push toward closing goes to the input gate (dL/dc * g) and not to the forget
    gate (dL/dc * c_prev = 0): the push follows what each gate multiplies, not the token."""
    push = pushes(hand_lstm(0.5), "lstm", [OTHER, OTHER])
    assert push["input"] > 1e-3
    assert abs(push["forget"]) < 1e-4 * push["input"]  # the quiet step: f = 1 - 6e-6
    assert aggregate.pair_share(push["forget"], push["input"], abs(push["forget"]),
                                abs(push["input"])) == pytest.approx(0.0, abs=1e-3)


def test_a_stale_memory_pushes_the_gru_update_gate_toward_overwriting():
    """GRU, PyTorch's convention: at the RESET z = 0.5 keeps half the stale memory; dL/dz =
    dL/dh (h_prev - n) pushes z down (overwrite), the role's direction; the reset gate, whose
    W_hn h_prev + b_hn is 0 here, gets nothing."""
    push = pushes(hand_gru(), "gru", [STORE_P, STORE_M, STORE_P, STORE_M])
    assert push["update"] > 1e-3
    assert abs(push["reset"]) < 1e-6 * push["update"]


def test_a_removed_forget_gate_receives_no_push():
    """lstm_nfg (f held at 1): its position is gone, so its gradient is exactly 0 (the first
    push's negative control cannot pass)."""
    model = build_model("lstm_nfg", 5, 4, 1, "default", 5, seed=0)
    x, targets, mask, at, quiet = episodes([STORE_P, STORE_M, STORE_P])
    acts, grads = measure.gate_gradients(model, x, targets, mask, "regression")
    assert torch.equal(grads["forget"], torch.zeros_like(grads["forget"]))
    assert torch.equal(acts["forget"], torch.ones_like(acts["forget"]))
    assert grads["input"].abs().sum() > 0


REPO = Path(__file__).resolve().parents[1]
TINY = {"study": {"tasks": ["reset_recall"], "architectures": ["lstm", "gru"], "seeds": [0]},
        "data": {"length": 30, "n_train": 128, "n_validation": 32, "n_test": 32},
        "model": {"hidden_size": 8},
        "training": {"batch_size": 16, "steps": {"reset_recall": 40}, "eval_every": 20,
                     "first_checkpoint": 10},
        "extraction": {"n_sequences": 16}, "decodability": {"n_sequences": 16},
        "dependence": {"n_sequences": 16}, "gradient_flow": {"n_sequences": 16},
        "causal": {"ablation_sequences": 8, "unit_k": [1, 4], "verdict_k": 4},
        "emergence": {"n_sequences": 12, "early_steps": 10, "n_shuffles": 20}}


def trained(tmp_path, arch: str, init: str = "default", **emergence):
    """A tiny run trained and extracted as the workflow does it, and the C7 settings."""
    config = validate({**TINY, "emergence": {**TINY["emergence"], **emergence}},
                      REPO / "config" / "schema.yaml")
    run = Run("reset_recall", arch, init, 0)
    paths = {"checkpoints": str(tmp_path / f"{arch}.pt"),
             "gates": str(tmp_path / f"{arch}.npz")}
    train_run(config, run, checkpoints_path=paths["checkpoints"],
              log_path=str(tmp_path / "log.csv"), test_path=str(tmp_path / "test.json"))
    extraction.extract_run(config, run, checkpoints_path=paths["checkpoints"],
                           gates_path=paths["gates"], logits=False)
    return RunInputs(paths), run, Settings.from_config(config)


@pytest.mark.parametrize("arch", ["lstm", "gru"])
def test_the_replay_reproduces_training_and_the_tables_are_whole(tmp_path, arch):
    inputs, run, settings = trained(tmp_path, arch)
    tables = measure.measure(inputs, run, settings)
    replay = tables["replay"].iloc[0]
    assert replay["early_steps"] == 10 and replay["checked_step"] == 10
    assert replay["max_abs_diff"] == 0.0  # the same batches, weights and Adam: bit for bit
    push = tables["push"]
    assert set(push["step"]) == {0, 10, 20, 40}
    events = {"lstm": {"reset", "store", "query"}, "gru": {"reset", "store"}}[arch]
    assert set(push["event"]) == events
    gates = {"lstm": {"input", "forget", "output"}, "gru": {"reset", "update"}}[arch]
    assert set(push["gate"]) == gates
    updates = tables["updates"]
    assert set(updates["step"]) == set(range(1, 11))
    assert len(updates) == 10 * len(events) * len(gates) * 2
    units = tables["units"]
    assert len(units) == 8 * len(events) and units["memory_unit"].sum() == 2 * len(events)
    if arch == "lstm":
        assert set(tables["outcome"]["event"]) <= {"reset", "store"}


def test_the_pairwise_share_is_one_half_under_exchangeable_gates():
    """Under the rival every gate gets the same push in expectation: with exchangeable noisy
    per-unit pushes (a common push plus noise, three gates of 8 units), the role gate's share
    is one half on average, and the verdict rule's false 'supported' rate over 5 seeds stays
    at its one-sided level (2.5%). (A share against the *mean* of the other gates would not
    be one half: a mean of two varies less than one gate.)"""
    rng = np.random.default_rng(0)
    for common in (0.0, 0.3, 1.0, 3.0):
        units = common + rng.normal(size=(20000, 3, 8))
        values, sizes = units.mean(axis=2), np.abs(units).mean(axis=2)
        shares = np.array([aggregate.push_share(pd.Series(v, index=["f", "i", "o"]),
                                                pd.Series(m, index=["f", "i", "o"]), "f")
                           for v, m in zip(values, sizes, strict=True)])
        assert abs(shares.mean() - 0.5) < 0.005, common
        verdicts = stats.directional_verdicts(shares.reshape(-1, 5) - 0.5, +1)
        assert np.mean(verdicts == stats.SUPPORTED) < 0.035, common


def test_a_gate_pushed_by_nothing_does_not_win_against_gates_pushed_away_from_the_role():
    """A held gate (push 0) beside gates pushed away from the role: none is pushed toward it,
    so the share is one half (the first updates' control cannot pass by standing still)."""
    values = pd.Series({"input": 0.0, "forget": -0.3, "output": -0.1})
    sizes = pd.Series({"input": 0.0, "forget": 0.4, "output": 0.2})
    assert aggregate.push_share(values, sizes, "input") == 0.5
    assert aggregate.pair_share(0.2, -0.3, 0.2, 0.3) == pytest.approx(0.7)
    assert aggregate.pair_share(0.2, 0.2, 0.3, 0.3) == 0.5


def test_a_shuffled_unit_prediction_rarely_passes():
    """The null simulation of 'early pushes predict the memory-carrying units': unit scores
    unrelated to the memory labels (32 units, 8 of them memory units), 5 seeds per study, 400
    studies, each seed's AUC minus its shuffled baseline as `unit_prediction` computes it:
    'supported' about as often as the one-sided level (2.5%)."""
    rng = np.random.default_rng(1)
    label = np.arange(32) < 8
    effects = np.array([[aggregate.auc(score, label)
                         - aggregate.shuffled_auc(score, label, 20, seed=seed)
                         for seed, score in enumerate(rng.normal(size=(5, 32)))]
                        for _ in range(400)])
    verdicts = stats.directional_verdicts(effects, +1)
    assert np.mean(verdicts == stats.SUPPORTED) < 0.05
    assert abs(effects.mean()) < 0.01


def test_a_unit_prediction_with_a_real_link_passes_and_its_other_seed_control_fails():
    rng = np.random.default_rng(2)
    rows = []
    for seed in range(5):
        label = np.zeros(32, dtype=bool)
        label[rng.choice(32, 8, replace=False)] = True
        score = label * 2.0 + rng.normal(size=32)
        rows.append(pd.DataFrame({
            "task": "t", "arch": "lstm", "init": "default", "seed": seed, "unit": np.arange(32),
            "event": "reset", "gate": "forget", "early_update": score,
            "initial_push": rng.normal(size=32), "memory_unit": label, "n_unsolved": 0,
            "solved": True}))
    row = aggregate.unit_rows(pd.concat(rows), SETTINGS, n_shuffles=50)[0]
    assert row["verdict"] == stats.SUPPORTED and row["change"] > 0.3
    assert row["control_verdict"] in stats.CONTROL_FAILS
    assert abs(row["initial"]) < 0.2  # the unrelated step-0 score: at the baseline
    score, label = rng.normal(size=32), np.arange(32) < 8
    assert aggregate.shuffled_auc(score, label, 4000, seed=0) == pytest.approx(0.5, abs=0.01)
    assert aggregate.auc(np.arange(32.0), np.arange(32) >= 24) == 1.0


def test_the_gate_prediction_is_measured_against_the_seeds_marginals():
    """Every seed predicted and ended the same way: nothing to predict (0 on every seed,
    untestable); a prediction that tracks varying outcomes beats the shuffled agreement."""
    assert aggregate.expected_agreement(np.ones(5, bool), np.ones(5, bool)) == 1.0
    pred = np.array([1, 1, 0, 0, 1], bool)
    assert aggregate.expected_agreement(pred, pred) == pytest.approx(0.6 * 0.6 + 0.4 * 0.4)


def test_across_hold_lengths_the_slope_of_the_early_share_is_decided():
    rows = []
    for seed in range(5):
        for hold in (10, 40, 160):
            share_f = 0.3 + 0.1 * np.log(hold) + 0.01 * seed  # grows with log H
            for step in (1, 2):
                for gate, value in (("forget", share_f), ("input", 1 - share_f),
                                    ("output", 0.5)):
                    rows.append({"task": f"hold_recall@{hold}", "arch": "lstm",
                                 "init": "default", "seed": seed, "step": step,
                                 "event": "reset", "gate": gate, "kind": "update",
                                 "value": value, "step_magnitude": 1.0,
                                 "cumulative": step * value, "magnitude": step * 1.0,
                                 "solved": True})
    table, verdicts = aggregate.hold_rows(pd.DataFrame(rows), SETTINGS)
    assert set(table["hold"]) == {10.0, 40.0, 160.0} and set(table["family"]) == {"hold_recall"}
    assert len(verdicts) == 1 and verdicts[0]["change"] > 0
    assert verdicts[0]["task"] == "hold_recall@H"
    assert verdicts[0]["prediction"] == ("the first updates push forget at resets more, the "
                                         "longer the hold")
    assert tasks.hold_of("reset_recall")[0] == "reset_recall"
    assert np.isnan(tasks.hold_of("reset_recall")[1])
    assert tasks.hold_of("hold_armed@15") == ("hold_armed", 15.0)


def synthetic_push(arch: str, role_push: dict, other_push: float, seeds=range(5)):
    """A push table: at each step of `role_push` {step: push}, the forget gate at resets gets
    that push (size 1, or 0 where it is 0), input and output get `other_push` (size 1)."""
    rng = np.random.default_rng(0)
    rows = []
    for seed in seeds:
        for step, push in role_push.items():
            for gate in ("forget", "input", "output"):
                value = push if gate == "forget" else other_push + 0.05 * rng.normal()
                size = abs(value) if gate == "forget" and push == 0 else 1.0
                rows.append({"task": "reset_recall", "arch": arch, "init": "default",
                             "seed": seed, "step": step, "final_step": max(role_push),
                             "event": "reset", "gate": gate, "push": value,
                             "magnitude": size, "solved": True})
    return pd.DataFrame(rows)


def test_the_push_rows_decide_step_0_and_the_window_end_each_beside_its_control():
    push = synthetic_push("lstm", {0: 0.05, 25: 0.9, 100: 0.5}, 0.0)
    control = synthetic_push("lstm_nfg", {0: 0.0, 25: 0.0}, 0.5)
    rows = aggregate.attach_gradient_controls(
        aggregate.push_rows(push, SETTINGS, early_steps=25),
        aggregate.push_rows(control, SETTINGS, early_steps=25))
    by = {r["evidence"]: r for r in rows}
    early = by[aggregate.PUSH_EARLY]
    assert early["prediction"] == ("by step 25 the error at resets pushes forget toward "
                                   "closing more than the other gates")
    assert early["verdict"] == stats.SUPPORTED and early["change"] > 0.2
    assert early["control"] == "lstm_nfg (no forget gate: held at 1)"
    assert early["control_verdict"] in stats.CONTROL_FAILS
    assert early["trained"] > 0.5 and np.isfinite(early["initial"])
    assert aggregate.early_checkpoint([0, 25, 50, 400], 25) == 25
    assert aggregate.early_checkpoint([0, 50], 25) is None


def test_the_swapped_initial_blocks_are_a_sanity_check_never_counted():
    """lstm / swap_forget_input (the same initial weights with the forget and input blocks
    exchanged): with i.i.d. initialisation the push following the position there follows from
    the default run by symmetry, so its rows are sanity checks."""
    push = pd.concat([synthetic_push("lstm", {0: 0.05, 25: 0.9, 100: 0.5}, 0.0),
                      synthetic_push("lstm", {0: 0.05, 25: 0.9, 100: 0.5}, 0.0)
                      .assign(init="swap_forget_input")], ignore_index=True)
    empty = pd.DataFrame(columns=["task", "arch", "init", "seed", "step", "solved"])
    tables = {"push": push, "updates": empty.assign(kind=[], event=[], gate=[]),
              "units": empty.assign(event=[]), "outcome": empty.assign(event=[])}
    table = aggregate.c7_verdicts(tables, SETTINGS, n_shuffles=10, early_steps=25)
    swapped = table[table["init"] == "swap_forget_input"]
    assert len(swapped) == 2 and set(swapped["test"]) == {stats.SANITY}
    assert not swapped["counted"].any() and swapped["note"].str.contains("symmetry").all()
    assert set(table.loc[table["init"] == "default", "test"]) == {stats.PRIMARY}
