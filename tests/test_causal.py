"""Claim C3: matched interchanges on hand-built LSTMs whose erasure goes through the forget gate
or through the input term, the lag-matched quiet steps, the negative control on a removed gate,
the unit-ablation null, the verdicts on planted per-seed tables, and block swaps."""

import types

import numpy as np
import pandas as pd
import pytest
import scipy.stats
import torch

from gateroles import gatefile, gates, interventions
from gateroles.analyses.causal import (
    Settings,
    controlled_roles,
    interchange_gates,
    measured_roles,
    role_off,
    swaps,
)
from gateroles.analyses.causal import aggregate as agg
from gateroles.analyses.causal import measure as causal
from gateroles.models import RecurrentModel, build_model, checkpoint_payload
from gateroles.tasks import make_task

# reset_recall with two values and one distractor: tokens STORE_0 = 0, STORE_1 = 1, RESET = 2,
# QUERY = 3, distractor = 4; answers 0, 1, EMPTY = 2.
TASK = {"n_values": 2, "n_distractors": 1}
STATS = types.SimpleNamespace(confidence=0.95, min_seeds=5, bootstrap_samples=100)


def memory_task(n=60, t=40, seed=0):
    return make_task("reset_recall", n, t, seed, **TASK)


def data_of(task) -> causal.Data:
    meta = {"task": task.name, "kind": task.kind, "chance": task.chance, "events": task.events,
            "behaviours": task.behaviours}
    return causal.Data(task.inputs, task.targets, task.mask, task.factors, meta)


def memory_lstm(hidden=1, readout=None, bias=-2.0, dead=()) -> RecurrentModel:
    """A hand-built reset_recall solver whose erasure goes through the forget gate; every unit
    (but the `dead` ones) is one memory cell.

    i = 1 at stores (0 elsewhere), f = 0 at stores and resets (1 elsewhere), g = +1 at STORE_0
    and -1 at STORE_1, o = 1: the cell holds +1 / -1 / 0 (EMPTY) and h = tanh(c). Read-out:
    class 0 <- +w.h + bias, class 1 <- -w.h + bias, EMPTY <- 0. A dead unit has i = 0, f = 1,
    g = 0: its cell stays 0.
    """
    model = RecurrentModel("lstm", 5, hidden, 3)
    w = np.full(hidden, 10.0 / hidden) if readout is None else np.asarray(readout)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        ih, b = model.rnn.weight_ih_l0, model.rnn.bias_ih_l0
        live = [u for u in range(hidden) if u not in dead]
        for u in range(hidden):
            i, f, g, o = u, hidden + u, 2 * hidden + u, 3 * hidden + u
            b[i], b[f], b[o] = -20.0, 20.0, 20.0
            if u in live:
                ih[i, 0] = ih[i, 1] = 40.0
                ih[f, 0] = ih[f, 1] = ih[f, 2] = -40.0
                ih[g, 0], ih[g, 1] = 20.0, -20.0
        model.readout.weight[0] = torch.as_tensor(w, dtype=torch.float32)
        model.readout.weight[1] = -torch.as_tensor(w, dtype=torch.float32)
        model.readout.bias[0] = model.readout.bias[1] = bias
    return model.eval()


def input_erasing_lstm() -> RecurrentModel:
    """A hand-built reset_recall solver whose erasure goes through the input term: f is held
    at 1 (bias 20, no weights: exactly 1.0 in float32), i = 1 at stores and resets, and at a
    reset the candidate writes -c (g = tanh(-30 h_prev), h_prev = tanh(c_prev) = +-0.76, so
    g = -+1 exactly): c_prev + g = 0. It needs every STORE to find the memory empty
    (`scripted_task`): with f = 1 a store adds to what is held."""
    model = RecurrentModel("lstm", 5, 1, 3)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        ih, hh, b = model.rnn.weight_ih_l0, model.rnn.weight_hh_l0, model.rnn.bias_ih_l0
        b[0], b[1], b[3] = -20.0, 20.0, 20.0  # i, f, o
        ih[0, 0] = ih[0, 1] = ih[0, 2] = 40.0  # i = 1 at STORE_k and RESET
        ih[2, 0], ih[2, 1] = 20.0, -20.0  # g = +-1 at STORE_0 / STORE_1
        hh[2, 0] = -30.0  # g = -sign(c) at a reset
        model.readout.weight[0, 0], model.readout.weight[1, 0] = 10.0, -10.0
        model.readout.bias[0] = model.readout.bias[1] = -2.0
    return model.eval()


def scripted_task(n=40, t=40, seed=0) -> causal.Data:
    """reset_recall sequences in which every STORE finds the memory empty: blocks of
    STORE_v, distractors, QUERY (recall after the store), distractors, RESET, distractors,
    QUERY (recall after the reset), distractors (1-2 distractors each)."""
    rng = np.random.default_rng(seed)
    tokens = np.full((n, t), 4)
    for row in tokens:
        step = 0
        while step < t:
            for token in (int(rng.integers(0, 2)), 3, 2, 3):
                if step < t:
                    row[step] = token
                step += 1 + int(rng.integers(1, 3))
    memory, targets = np.full((n, t), 2), np.zeros((n, t), dtype=np.int64)
    after = {"recall_after_reset": np.zeros((n, t), bool),
             "recall_after_store": np.zeros((n, t), bool)}
    for r in range(n):
        held, last = 2, None
        for s in range(t):
            if tokens[r, s] in (0, 1):
                held, last = tokens[r, s], "recall_after_store"
            elif tokens[r, s] == 2:
                held, last = 2, "recall_after_reset"
            elif tokens[r, s] == 3:
                targets[r, s] = held
                if last:
                    after[last][r, s] = True
            memory[r, s] = held
    factors = {"is_store": tokens < 2, "is_reset": tokens == 2, "is_query": tokens == 3,
               "memory": memory, **after}
    meta = {"task": "reset_recall", "kind": "classification", "chance": 0.5,
            "events": {"store": "is_store", "reset": "is_reset", "query": "is_query"},
            "behaviours": {b: b for b in after}}
    return causal.Data(np.eye(5, dtype=np.float32)[tokens], targets, tokens == 3, factors, meta)


def accuracy(model, task) -> float:
    out = interventions.forward(model, task.inputs)["outputs"]
    return float((out.argmax(-1) == task.targets)[task.mask].mean())


def data_accuracy(model, data: causal.Data) -> float:
    return 1 - float(data.errors(interventions.forward(model, data.inputs)["outputs"])
                     [data.mask].mean())


def test_the_hand_built_lstms_solve_their_tasks():
    assert accuracy(memory_lstm(), memory_task()) == 1.0
    model = input_erasing_lstm()
    assert data_accuracy(model, scripted_task()) == 1.0
    assert (interventions.forward(model, scripted_task().inputs)["forget"] == 1).all()


def matrix_of(model, data, arch="lstm", roles=None) -> pd.Series:
    """Damage per (intervention, gate, event, condition, behaviour) of one model."""
    table, _, _ = causal.perturbation_matrix(model, data, arch, roles or role_off(arch))
    return table.set_index(["intervention", "gate", "event", "condition", "behaviour"])


def test_forget_interchange_at_resets_keeps_stale_memory_where_the_forget_gate_erases():
    """(i) Erasure through the forget gate: its interchange at resets (f = 0 replaced by the
    quiet step's f = 1) keeps the stale value; the input and output gates do the same at a
    reset as at a distractor, so their interchange changes nothing."""
    data = data_of(memory_task())
    table = matrix_of(memory_lstm(), data)
    damage = table["damage"]
    at_reset = ("interchange", slice(None), "reset", "event", "recall_after_reset")
    assert damage["interchange", "forget", "reset", "event", "recall_after_reset"] > 0.5
    assert damage["interchange", "input", "reset", "event", "recall_after_reset"] == 0
    assert damage["interchange", "output", "reset", "event", "recall_after_reset"] == 0
    assert table.loc[at_reset, "size"].loc[:, "input"].iloc[0] == 0  # i = 0 at both steps
    # At quiet steps f is 1 already: the interchange there is a no-op.
    assert damage["interchange", "forget", "reset", "lag-matched quiet",
                  "recall_after_reset"] == 0
    # The role-off clamps (sanity) still run, at the events only.
    assert damage["role-off clamp", "forget", "reset", "event", "recall_after_reset"] > 0.5
    assert damage["role-off clamp", "output", "query", "event", "recall_after_store"] > 0.9
    assert ("role-off clamp", "forget", "reset", "lag-matched quiet",
            "recall_after_reset") not in damage.index


def test_input_interchange_at_resets_keeps_stale_memory_where_the_input_term_erases():
    """(ii) Erasure through the input term (f held at 1): the forget gate's interchange is a
    no-op (exactly 0, no pass run) and the input gate's keeps the stale value (the first
    query after a failed reset answers it; later ones see stores added to what is held)."""
    data = scripted_task()
    damage = matrix_of(input_erasing_lstm(), data)["damage"]
    assert damage["interchange", "forget", "reset", "event", "recall_after_reset"] == 0
    assert damage["interchange", "output", "reset", "event", "recall_after_reset"] == 0
    assert damage["interchange", "input", "reset", "event", "recall_after_reset"] > 0.4


def _interchange_tables(model, data_for_seed, arch="lstm", roles=None, control_only=False,
                        task="reset_recall", n_seeds=6) -> pd.DataFrame:
    """Per-model matrix rows of `n_seeds` seeds (each its own sequences) of one hand-built
    model, as the aggregate reads them (trained only: the hand-built model has no step 0)."""
    frames = []
    for seed in range(n_seeds):
        table, _, _ = causal.perturbation_matrix(model, data_for_seed(seed), arch,
                                                 roles or role_off(arch))
        frames.append(table.assign(task=task, arch=arch, init="default", seed=seed,
                                   solved=True, step=100, final_step=100,
                                   control_only=control_only))
    return pd.concat(frames, ignore_index=True)


def _verdicts(matrix: pd.DataFrame, runs=None) -> pd.DataFrame:
    empty = {name: pd.DataFrame(columns=["task", "arch", "init", "seed", "solved", *cols])
             for name, cols in (("ablation", causal.ABLATION_COLUMNS),
                                ("ablation_null", causal.NULL_COLUMNS),
                                ("swaps", causal.SWAP_COLUMNS))}
    if runs is None:
        runs = matrix[["task", "arch", "init", "seed", "solved"]].drop_duplicates()
    return agg.aggregate({"matrix": matrix, **empty}, runs, ablation_settings(),
                         STATS)["c3"].set_index("prediction")


FORGET_A = agg.interchange_prediction("forget", "reset", "recall_after_reset", agg.VS_OTHERS)
FORGET_B = agg.interchange_prediction("forget", "reset", "recall_after_reset", agg.VS_QUIET)


def test_prediction_a_holds_where_the_forget_gate_erases_and_fails_where_the_input_term_does():
    """(i) and (ii) through the aggregate, six seeds (sequence samples) each: where the forget
    gate erases, its interchange at resets beats every other gate's; where the input term
    erases (f held at 1), the same prediction comes out against, the input gate the largest
    rival in every seed."""
    forget = _verdicts(_interchange_tables(
        memory_lstm(), lambda s: data_of(memory_task(seed=s))))
    assert forget.loc[FORGET_A, "verdict_unadjusted"] == "supported"
    assert forget.loc[FORGET_A, "decided_on"].startswith("trained vs 0: at step 0")
    assert forget.loc[FORGET_A, "test"] == "primary"
    assert "erasure goes through the input term" in forget.loc[FORGET_A, "rival"]
    assert forget.loc[FORGET_B, "verdict_unadjusted"] == "supported"  # quiet interchange: 0
    assert "a tie in 6 of 6" in forget.loc[FORGET_A, "note"]  # input and output both at 0
    through_input = _verdicts(_interchange_tables(input_erasing_lstm(),
                                                  lambda s: scripted_task(seed=s)))
    row = through_input.loc[FORGET_A]
    assert row["verdict_unadjusted"] == "contradicted" and row["trained"] < -0.4
    assert "input in 6 of 6" in row["note"]
    assert through_input.loc[FORGET_B, "verdict_unadjusted"] == "untestable"  # 0 - 0


def test_lag_matched_quiet_steps_sit_at_the_events_lag():
    """(iii) Each event's quiet counterpart is as far from the next scored step as the event:
    exact where such a step exists, then the nearest lag, then the nearest step; each quiet
    step once; events with no scored step after them get none."""
    scored = np.zeros((3, 12), dtype=bool)
    events = np.zeros((3, 12), dtype=bool)
    scored[:, [5, 11]] = True  # lags 5 4 3 2 1 0 5 4 3 2 1 0
    events[0, 3] = True  # lag 2: the only other lag-2 step is 9
    events[1, [2, 8]] = True  # lags 3 and 3: the other lag-3 steps are events: lag 4 or 2,
    events[2, [1, 3]] = True  # lags 4 and 2                  then the nearest step (first)
    quiet = ~events & ~scored
    chosen = causal.lag_matched(events, quiet, scored)
    assert np.flatnonzero(chosen[0]).tolist() == [9]
    assert np.flatnonzero(chosen[1]).tolist() == [1, 7]
    assert np.flatnonzero(chosen[2]).tolist() == [7, 9]
    # Two lag-2 events (3, 9) and one quiet lag-2 step (15): the nearer event (9) gets it, the
    # other the nearest step at the nearest lag (2, lag 3); no step serves two events.
    scored, events = np.zeros((1, 18), dtype=bool), np.zeros((1, 18), dtype=bool)
    scored[0, [5, 11, 17]] = True
    events[0, [3, 9]] = True
    chosen = causal.lag_matched(events, ~events & ~scored, scored)
    assert np.flatnonzero(chosen[0]).tolist() == [2, 15]
    # An event after the last scored step has no counterpart.
    late = np.zeros((1, 12), dtype=bool)
    late[0, 11] = True
    assert not causal.lag_matched(late, ~late, np.eye(1, 12, 3, dtype=bool)).any()
    # Random sequences with plenty of quiet steps: every event is matched at its own lag.
    rng = np.random.default_rng(0)
    scored = rng.random((50, 100)) < 0.1
    events = ~scored & (rng.random((50, 100)) < 0.05)
    quiet = ~scored & ~events
    chosen = causal.lag_matched(events, quiet, scored)
    lag = causal.lag_to_next(scored)
    assert not (chosen & ~quiet).any()
    matched = events & np.isfinite(lag)
    np.testing.assert_array_equal(chosen.sum(1), matched.sum(1))
    same = sum(int((np.sort(lag[r, chosen[r]]) == np.sort(lag[r, matched[r]])).sum())
               for r in range(50))
    assert same > 0.85 * matched.sum()  # long lags are rarer: there the nearest lag
    assert abs(np.nanmean(np.where(np.isfinite(lag), lag, np.nan)[chosen])
               - np.nanmean(lag[matched])) < 0.5


def test_the_interchange_source_is_the_nearest_quiet_step_before():
    quiet = np.array([[False, True, False, False, True, False],
                      [False, False, False, True, False, False],
                      [True, False, False, False, False, False]])
    np.testing.assert_array_equal(causal.quiet_source(quiet), [[1, 4, 1, 1, 1, 4],
                                                               [3, 3, 3, -1, 3, 3],
                                                               [-1, 0, 0, 0, 0, 0]])
    # A quiet step is no event and no other marked token: the ARM token of armed_reset and an
    # unarmed RESET are not quiet.
    task = make_task("armed_reset", 20, 40, 0)
    data = data_of(task)
    assert not (data.quiet & (task.factors["is_arm"] | task.factors["is_reset"]).astype(bool)
                ).any()
    assert data.quiet.any()


def test_the_control_on_a_removed_gate_gives_exactly_zero():
    """(iv) lstm_nfg (no forget gate) runs as the plain LSTM with the forget gate a constant 1:
    the forget gate's interchange and its role-off clamp change nothing (exactly 0, not run),
    the other gates' interchanges are real passes, and the control of prediction (a) cannot
    come out supported."""
    task = make_task("reset_recall", 40, 40, 0)
    model = build_model("lstm_nfg", task.input_size, 6, task.n_outputs, "default", 40, 0)
    plain = causal.as_plain_cell(model)
    assert plain.arch == "lstm"
    data = data_of(task)
    table = matrix_of(plain, data, "lstm_nfg", controlled_roles("lstm_nfg"))
    forget = table.xs("forget", level="gate")
    assert (forget["damage"] == 0).all() and (forget["size"] == 0).all()
    assert (table.xs("input", level="gate")["size"] > 0).all()
    free = interventions.forward(plain, data.inputs)
    ablation, null = causal.unit_ablation(plain, free, data, controlled_roles("lstm_nfg"),
                                          ablation_settings(k=(2,), n_random=19, sequences=10),
                                          seed=0)
    assert (ablation["targeted"] == 0).all() and (null["damage"] == 0).all()


def ablation_settings(k=(2,), n_random=50, sequences=30):
    return Settings(unit_k=k, verdict_k=k[0], n_random=n_random, ablation_sequences=sequences)


def test_targeted_memory_units_beat_random_groups():
    """Units 0 and 1 hold the memory, 2..7 are dead: the two units most locked to resets are
    the memory units, and only clamping both at resets keeps the stale value (one alone is
    below the read-out's threshold); no other pair does anything."""
    task = memory_task(n=60)
    model = memory_lstm(hidden=8, readout=[5, 5, 0, 0, 0, 0, 0, 0], bias=-4.0,
                        dead=range(2, 8))
    assert accuracy(model, task) == 1.0
    activations = gates.extract(model, task.inputs)
    data = data_of(task)
    table, null = causal.unit_ablation(model, activations, data, {"reset": ("forget", 1.0)},
                                       ablation_settings(), seed=0)
    row = table.set_index("event").loc["reset"]
    assert row["units"] == "0 1"
    assert row["targeted"] > 0.5 and row["p_value"] == 1 / 51
    assert (null[null["event"] == "reset"]["damage"] == 0).all()
    assert np.isnan(row["effect_size"])  # the null has no spread: no standardised effect


def test_units_are_chosen_on_the_first_half_of_the_sequences_only():
    """The activations of the first half (where units are chosen) make the dead units 4 and 5
    look locked to resets, the second half (where the damage is measured) the memory units 0
    and 1: the targeted pair is 4 5, chosen without the measured sequences, and clamping those
    dead units does nothing."""
    task = memory_task(n=60)
    model = memory_lstm(hidden=8, readout=[5, 5, 0, 0, 0, 0, 0, 0], bias=-4.0,
                        dead=range(2, 8))
    swap = [4, 5, 2, 3, 0, 1, 6, 7]  # units 0, 1 <-> 4, 5
    activations = {}
    for gate, a in gates.extract(model, task.inputs).items():
        a = a.copy()
        a[:30] = a[:30][..., swap]
        activations[gate] = a
    data = data_of(task)
    data.events = {"reset": data.events["reset"]}
    table, _ = causal.unit_ablation(model, activations, data, {"reset": ("forget", 1.0)},
                                    ablation_settings(),
                                    seed=0)
    row = table.set_index("event").loc["reset"]
    assert row["units"] == "4 5" and row["targeted"] == 0


def test_effect_size_is_standardised_by_the_null_sample_sd():
    """(targeted - mean) / sd with ddof 1: [0, 1, 2] has mean 1 and sd 1."""
    assert causal.effect_size(3.0, np.array([0.0, 1.0, 2.0])) == pytest.approx(2.0)
    assert causal.effect_size(0.5, np.array([1.0, 3.0])) == pytest.approx(-1.5 / np.sqrt(2))
    assert causal.effect_size(1.0, np.ones(4)) == 0.0
    assert np.isnan(causal.effect_size(2.0, np.ones(4)))


def _answers(task, off: str | None) -> np.ndarray:
    """`[N, T]` answers of an oracle that follows the task's rules step by step, with one
    role switched off at its events (`off`): "reset" (the RESET / armed RESET does not erase),
    "store" (a STORE / target / marked value is not written) or "query" (the read-out at a
    QUERY gives nothing: the answer EMPTY)."""
    out = np.zeros(task.targets.shape, dtype=np.float64)
    k = task.n_outputs - 1  # EMPTY (memory tasks); max_count (count_reset)
    for n, row in enumerate(task.tokens):
        memory, armed, total = k, False, 0.0
        for t, tok in enumerate(row):
            if task.name == "reset_recall":
                if tok < k and off != "store":
                    memory = tok
                elif tok == k and off != "reset":
                    memory = k
                out[n, t] = k if (tok == k + 1 and off == "query") else memory
            elif task.name == "armed_reset":
                if tok < k:
                    memory, armed = (memory if off == "store" else tok), False
                elif tok == k:
                    armed = True
                elif tok == k + 1 and armed and off != "reset":
                    memory = k
                out[n, t] = k if (tok == k + 2 and off == "query") else memory
            elif task.name == "count_reset":
                if tok == 0 and off != "store":
                    total = min(total + 1, k)
                elif tok == 1 and off != "reset":
                    total = 0
                out[n, t] = total
            else:  # adding
                if task.factors["is_marked"][n, t] and off != "store":
                    total += float(task.inputs[n, t, 0])
                out[n, t] = total
    return out


def test_needs_names_exactly_the_behaviours_whose_answers_need_the_role():
    """An oracle of each task with one role switched off changes the right answer of some
    steps of exactly the behaviours NEEDS names for that role; the one documented exception:
    a RESET that fails to erase also spoils count_reset's counts after the next targets,
    which NEEDS leaves out (their steps before the first RESET do not depend on it)."""
    from gateroles.analyses.causal import NEEDS

    left_out = {("count_reset", "reset"): {"count_after_increment"}}
    for name in ("reset_recall", "armed_reset", "count_reset", "adding"):
        task = make_task(name, 200, 40, seed=0)
        normal = _answers(task, None)
        np.testing.assert_allclose(normal[task.mask], task.targets[task.mask], rtol=1e-5)
        for role, needed in NEEDS[name].items():
            changed = _answers(task, role) != normal
            affected = {b for b, f in task.behaviours.items()
                        if (changed & task.factors[f].astype(bool) & task.mask).any()}
            assert set(needed) == affected - left_out.get((name, role), set()), (name, role)
            assert left_out.get((name, role), set()) <= affected


def test_exchangeable_units_give_uniform_p_values():
    """A null simulation: eight identical memory units (identical gate activations, so the
    targeted group is a random one, ties broken at random) whose read-out weights differ, on a
    regression read-out (out = sum_j w_j h_j, sum w = 1, the target the memory as +-tanh(1) or
    0): a group kept stale at resets costs 0.58 (sum of its weights)^2 per query, so every
    group's damage differs and the permutation p-value is uniform under the null."""
    task = memory_task(n=50)
    sign = np.where(task.factors["memory"] == 0, 1.0, np.where(task.factors["memory"] == 1,
                                                                  -1.0, 0.0))
    meta = {"task": "reset_recall", "kind": "regression", "events": {"reset": "is_reset"},
            "behaviours": task.behaviours}
    data = causal.Data(task.inputs, (np.tanh(1.0) * sign).astype(np.float32), task.mask,
                       task.factors, meta)
    p_values = []
    for rep in range(30):
        weights = np.random.default_rng(100 + rep).dirichlet(np.ones(8))
        model = memory_lstm(hidden=8, readout=weights, bias=0.0)
        regression = RecurrentModel("lstm", 5, 8, 1)
        regression.load_state_dict({**model.state_dict(),
                                    "readout.weight": model.readout.weight[:1],
                                    "readout.bias": torch.zeros(1)})
        assert (data.errors(interventions.forward(regression, task.inputs)["outputs"])
                [task.mask] < 1e-10).all()
        one_unit = gates.extract(model, task.inputs)
        # exact copies (the product of identical columns may differ in the last bit)
        activations = {g: np.repeat(a[:, :, :1], 8, axis=2) for g, a in one_unit.items()}
        table, null = causal.unit_ablation(regression, activations, data,
                                           {"reset": ("forget", 1.0)},
                                           ablation_settings(k=(3,), n_random=40,
                                                             sequences=20), seed=rep)
        assert null["damage"].nunique() > 20  # the null has spread and few ties
        p_values.append(table["p_value"].iloc[0])
    p = np.array(p_values)
    # Under the null P(p < 0.05) = 2 / 41 (the targeted group first or second of 41):
    # Binomial(30, 0.049) exceeds 5 with probability 0.004.
    assert (p < 0.05).sum() <= 5
    assert 0.35 < p.mean() < 0.65
    assert scipy.stats.kstest(p, "uniform").pvalue > 0.01


def test_random_groups_are_distinct_units_and_never_the_targeted_group():
    rng = np.random.default_rng(0)
    groups = causal.random_groups(4, 1, 200, np.array([2]), rng)
    assert groups.shape == (200, 1) and not (groups == 2).any()
    assert set(groups.ravel()) == {0, 1, 3}
    groups = causal.random_groups(8, 3, 100, np.array([0, 1, 2]), rng)
    assert all(len(set(g)) == 3 for g in groups)
    assert not (groups == [0, 1, 2]).all(axis=1).any()


def test_targeted_units_break_ties_at_random():
    response = np.array([0.5, 0.9, 0.5, 0.5, 0.1])
    picks = {tuple(causal.targeted_units(response, 2, np.random.default_rng(s)))
             for s in range(30)}
    assert all(1 in p for p in picks) and len(picks) == 3


def test_swapping_blocks_breaks_the_hand_built_model_and_swapping_back_restores_it():
    task = memory_task()
    data = data_of(task)
    model = memory_lstm()
    base = data.errors(interventions.forward(model, task.inputs)["outputs"])
    table = causal.block_swaps(model, data, "lstm", base).set_index(["gate_a", "gate_b"])
    assert table.loc[("forget", "input"), "score_before"] == 1.0
    assert table.loc[("forget", "input"), "damage"] > 0.3
    twice = interventions.swap_blocks(interventions.swap_blocks(model, "forget", "input"),
                                      "forget", "input")
    assert accuracy(twice, task) == 1.0
    np.testing.assert_array_equal(interventions.forward(twice, task.inputs)["outputs"],
                                  interventions.forward(model, task.inputs)["outputs"])


@pytest.mark.parametrize("arch,expected", [
    ("lstm", [("forget", "input"), ("forget", "output"), ("input", "output")]),
    ("gru", [("reset", "update")]), ("lstm_nfg", [("input", "output")]),
    ("lstm_cifg", [("forget", "input")]), ("rnn", []), ("gru_fug", []),
    ("lstm_ffg", [("input", "output")])])
def test_swaps_and_interchanged_gates_per_architecture(arch, expected):
    assert swaps(arch) == expected  # never a held gate's rows
    cell = {"lstm": "lstm", "gru": "gru", "rnn": "rnn"}[arch.split("_")[0]]
    assert interchange_gates(arch) == gates.SIGMOID_GATES[cell]
    assert {g for g, _ in role_off(arch).values()} <= set(interchange_gates(arch))


def test_role_off_values():
    assert role_off("lstm") == {"reset": ("forget", 1.0), "store": ("input", 0.0),
                                "query": ("output", 0.0)}
    assert role_off("gru") == {"reset": ("update", 1.0), "store": ("update", 1.0)}
    assert "reset" not in role_off("lstm_nfg")


def test_each_control_architecture_measures_the_roles_it_controls():
    assert controlled_roles("lstm_nfg") == {"reset": ("forget", 1.0)}
    assert controlled_roles("lstm_nig") == {"store": ("input", 0.0)}
    assert controlled_roles("lstm_nog") == {"query": ("output", 0.0)}
    assert controlled_roles("gru_fug") == {"reset": ("update", 1.0), "store": ("update", 1.0)}
    assert controlled_roles("lstm") == controlled_roles("lstm_ffg") == {}
    assert measured_roles("lstm_nfg", control_only=True) == {"reset": ("forget", 1.0)}
    # as an analysis cell too (wiring.all_analyses): its own roles and the one it controls
    assert set(measured_roles("lstm_nfg", control_only=False)) == {"reset", "store", "query"}


def _write_run(tmp_path, arch, task):
    models = {0: build_model(arch, task.input_size, 6, task.n_outputs, "default", 30, 0),
              50: build_model(arch, task.input_size, 6, task.n_outputs, "default", 30, 1)}
    path = str(tmp_path / "gates.npz")
    gatefile.write(path, gatefile.task_arrays(task, task.n_sequences),
                   {s: gates.extract(m, task.inputs, preactivations=True)
                    for s, m in models.items()})
    meta = {"arch": arch, "input_size": task.input_size, "hidden_size": 6,
            "n_outputs": task.n_outputs}
    payload = checkpoint_payload(meta, {s: m.state_dict() for s, m in models.items()})
    return types.SimpleNamespace(gates=gatefile.GateFile(path), checkpoints=payload)


@pytest.mark.parametrize("arch", ["lstm", "gru", "lstm_nog", "rnn"])
def test_measure_tables_of_one_run(tmp_path, arch):
    task = make_task("armed_reset", 24, 30, 3)
    inputs = _write_run(tmp_path, arch, task)
    run = types.SimpleNamespace(arch=arch, seed=0, path="x")
    tables = causal.measure(inputs, run, ablation_settings(k=(1, 2), n_random=19, sequences=8))
    assert set(tables) == {"matrix", "ablation", "ablation_null", "swaps"}
    for name, table in tables.items():
        assert list(table.columns) == causal.COLUMNS[name]
    if arch == "rnn":
        assert all(t.empty for t in tables.values())
        return
    matrix = tables["matrix"]
    assert set(matrix["step"]) == {0, 50} and set(matrix["final_step"]) == {50}
    assert not matrix["control_only"].any()
    assert matrix["damage"].notna().all()
    interchange = matrix[matrix["intervention"] == "interchange"]
    assert set(interchange["gate"]) == set(interchange_gates(arch))
    # its own roles (and, on a control architecture, the one it controls)
    assert set(interchange["event"]) == set(measured_roles(arch, False)) & set(task.events)
    # Behaviours with no scored step in the sample give no rows, never a damage of 0.
    scored = {b for b, f in task.behaviours.items() if (task.factors[f] & task.mask).any()}
    assert set(interchange["behaviour"]) == scored
    quiet = interchange[interchange["condition"] == "lag-matched quiet"]
    assert set(quiet["gate"]) == {g for g, _ in measured_roles(arch, False).values()}
    assert (quiet["n_perturbed"] > 0).all()
    assert set(matrix[matrix["intervention"] == "role-off clamp"]["gate"]) == set(quiet["gate"])
    assert set(tables["swaps"][["gate_a", "gate_b"]].itertuples(index=False, name=None)) \
        == set(swaps(arch))
    ablation = tables["ablation"]
    # every k, on the trained model only (at step 0 there is nothing to damage)
    assert set(ablation["step"]) == {50} and set(ablation["k"]) == {1, 2}
    assert (ablation["n_random"] == 19).all()
    assert ablation["p_value"].between(1 / 20, 1).all()


@pytest.mark.parametrize("arch", ["lstm_nfg", "lstm_nig", "gru_fug"])
def test_a_control_cell_measures_its_primary_tests_trained_only(tmp_path, arch):
    task = make_task("reset_recall", 24, 30, 3)
    inputs = _write_run(tmp_path, arch, task)
    run = types.SimpleNamespace(arch=arch, seed=0, path="x")
    settings = Settings(unit_k=(1, 2), verdict_k=2, n_random=19, ablation_sequences=8,
                        control_only=True)
    tables = causal.measure(inputs, run, settings)
    matrix, ablation = tables["matrix"], tables["ablation"]
    assert set(matrix["step"]) == {50} and matrix["control_only"].all()
    assert set(matrix["intervention"]) == {"interchange"}  # no sanity checks
    assert tables["swaps"].empty
    assert set(matrix["event"]) == set(controlled_roles(arch))
    assert set(ablation["k"]) == {2} and set(ablation["event"]) == set(controlled_roles(arch))
    held = {g for g, _ in controlled_roles(arch).values()}
    assert (matrix[matrix["gate"].isin(held)]["damage"] == 0).all()  # a held gate: no-op


def test_settings_read_whether_the_cell_is_only_a_control():
    section = {"unit_k": [1, 4], "verdict_k": 4, "n_random": 19, "ablation_sequences": 8}
    assert not Settings.from_config({"causal": section}).control_only
    assert Settings.from_config({"causal": section, "control_only": True}).control_only


# ------------------------------------------------------------------ verdicts on planted tables

def planted_matrix(effect: float, rival: float, n_seeds=6, noise=0.02, seed=0,
                   arch="lstm", control_only=False, steps=(0, 100)) -> pd.DataFrame:
    """Per-model interchange rows on reset_recall: the forget gate's interchange at resets
    damages recall_after_reset by `effect` (trained), every other gate's by `rival`; every
    lag-matched quiet interchange and every interchange at step 0 by noise only."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_seeds):
        for step in steps:
            for gate in interchange_gates(arch):
                for event in ("reset", "store", "query"):
                    role_gate = role_off("lstm")[event][0]
                    for condition in ("event", "lag-matched quiet"):
                        if condition != "event" and gate != role_gate:
                            continue
                        for behaviour in ("recall_after_reset", "recall_after_store"):
                            damage = rng.normal(0, noise)
                            if step and event == "reset" and condition == "event" and \
                                    behaviour == "recall_after_reset":
                                damage += effect if gate == "forget" else rival
                            rows.append({"task": "reset_recall", "arch": arch,
                                         "init": "default", "seed": s, "step": step,
                                         "final_step": 100, "control_only": control_only,
                                         "intervention": "interchange", "gate": gate,
                                         "value": np.nan, "event": event,
                                         "condition": condition, "behaviour": behaviour,
                                         "n_perturbed": 10, "n_lagged": 8, "size": 0.1,
                                         "mean_lag": 3.0,
                                         "damage": damage, "score": 1 - damage,
                                         "base_score": 1.0, "solved": True})
    return pd.DataFrame(rows)


def verdicts(matrix: pd.DataFrame) -> pd.DataFrame:
    return _verdicts(matrix)["verdict_unadjusted"]


def test_verdicts_support_a_planted_role_and_not_an_absent_one():
    planted = verdicts(planted_matrix(effect=0.5, rival=0.1))
    assert planted[FORGET_B] == "supported" and planted[FORGET_A] == "supported"
    absent = verdicts(planted_matrix(effect=0.0, rival=0.0))
    assert absent[FORGET_B] != "supported" and absent[FORGET_A] != "supported"
    # Damage at the event but as much from another gate: (b) holds, (a) does not.
    shared = verdicts(planted_matrix(effect=0.5, rival=0.5))
    assert shared[FORGET_B] == "supported" and shared[FORGET_A] != "supported"


def test_a_prediction_counts_only_beside_a_control_that_fails():
    """The same planted role on lstm and on its control cell (lstm_nfg, trained only): the
    prediction passes its control, so it is not a test; with nothing on the control cell (as a
    held gate gives) it counts. Without the control cell it does not count either."""
    main = planted_matrix(effect=0.5, rival=0.1)
    absent_there = pd.concat([main, planted_matrix(effect=0.0, rival=0.3, arch="lstm_nfg",
                                                   control_only=True, steps=(100,))])
    table = _verdicts(absent_there)
    row = table.loc[FORGET_A]
    assert row["counted"] and row["control_verdict"] in ("contradicted", "inconclusive")
    assert row["control"].startswith("lstm_nfg: forget held at 1 in training; 6 of 6 seeds")
    assert set(table["arch"]) == {"lstm"}  # the control cell is not decided itself
    present_there = pd.concat([main, planted_matrix(effect=0.5, rival=0.1, arch="lstm_nfg",
                                                    control_only=True, steps=(100,))])
    row = _verdicts(present_there).loc[FORGET_A]
    assert not row["counted"] and row["control_verdict"] == "supported"
    alone = _verdicts(main).loc[FORGET_A]
    assert not alone["counted"] and alone["control"].endswith("in training (not run)")


def test_control_seeds_count_whether_or_not_they_solved():
    main = planted_matrix(effect=0.5, rival=0.1)
    control = planted_matrix(effect=0.0, rival=0.3, arch="lstm_nfg", control_only=True,
                             steps=(100,)).assign(solved=False)
    matrix = pd.concat([main, control])
    runs = matrix[["task", "arch", "init", "seed", "solved"]].drop_duplicates()
    row = _verdicts(matrix, runs).loc[FORGET_A]
    assert row["control_n_seeds"] == 6 and row["counted"]
    assert "0 of 6 seeds solved the task" in row["control"]


def test_unsolved_seeds_are_left_out_and_counted():
    matrix = planted_matrix(effect=0.5, rival=0.1)
    matrix.loc[matrix["seed"] == 0, "solved"] = False
    c3 = _verdicts(matrix)
    assert (c3["n_seeds"] == 5).all() and (c3["n_unsolved"] == 1).all()
    assert (c3["claim"] == "C3").all()


def test_a_behaviour_without_scored_steps_gives_no_row():
    matrix = planted_matrix(effect=0.5, rival=0.1)
    matrix = matrix[matrix["behaviour"] != "recall_after_reset"]
    assert not verdicts(matrix).index.str.contains("recall_after_reset").any()


def test_sanity_rows_are_apart_and_say_why_they_cannot_fail():
    matrix = planted_matrix(effect=0.5, rival=0.1)
    clamps = matrix[(matrix["gate"] == "output") & (matrix["event"] == "query")
                    & (matrix["condition"] == "event")].assign(
        intervention="role-off clamp", value=0.0)
    clamps.loc[(clamps["step"] == 100) & (clamps["behaviour"] == "recall_after_store"),
               "damage"] += 0.9
    table = _verdicts(pd.concat([matrix, clamps]))
    row = table.loc["output → 0 at query damages recall_after_store"]
    assert row["test"] == "sanity" and not row["counted"]
    assert row["decided_on"] == "change from step 0" and "h = 0" in row["note"]
    assert row["verdict_unadjusted"] == "supported"


def test_section_sentences_come_from_the_tables():
    from gateroles.analyses.causal import section

    c3 = _verdicts(pd.concat([planted_matrix(effect=0.5, rival=0.5),
                              planted_matrix(effect=0.0, rival=0.3, arch="lstm_nfg",
                                             control_only=True, steps=(100,))])).reset_index()
    text = " ".join(section.interchange_sentences(c3))
    # (b) holds at resets only (nothing planted at stores and queries); (a) does not
    assert "(a) The role gate's interchange at its events damages the behaviour more than " \
           "every other gate's there: supported in 0 of 1 counted" in text
    assert f"Not supported: {FORGET_A}" in text
    assert "2 more not counted (2 without a negative control that ran)" in text
    assert "Negative controls" in text
    assert section.ablation_sentences(c3, agg.ablation_summary(
        pd.DataFrame(columns=["task"]), 0.95), 4)[-1].startswith("No unit ablation")
    assert section.swap_sentences(pd.DataFrame()) == []
    assert "<details>" not in section.fold(c3.head(3), "x")
    assert "<details>" in section.fold(pd.concat([c3] * 3), "x")  # above 12 rows


def test_a_consistent_reversal_is_said_plainly():
    from gateroles.analyses.causal import section

    c3 = _verdicts(pd.concat([planted_matrix(effect=0.1, rival=0.5),
                              planted_matrix(effect=0.0, rival=0.3, arch="lstm_nfg",
                                             control_only=True, steps=(100,))])).reset_index()
    text = " ".join(section.interchange_sentences(c3))
    assert "contradicted; no seed in the predicted direction (0 of 6)" in text
    assert "largest other gate's interchange (trained seeds): input in" in text


def _swaps_summary(damage_io: float) -> pd.DataFrame:
    rows = []
    for (a, b), damage in ((("forget", "input"), 0.6), (("input", "output"), damage_io)):
        for phase, d in (("trained", damage), ("initial", 0.001)):
            rows.append({"task": "reset_recall", "arch": "lstm", "init": "default",
                         "phase": phase, "gate_a": a, "gate_b": b, "metric": "accuracy",
                         "n_seeds": 5, "score_before": 1.0, "score_before_ci_low": 1.0,
                         "score_before_ci_high": 1.0, "score_after": 1.0 - d,
                         "damage": d, "damage_ci_low": d - 0.01, "damage_ci_high": d + 0.01,
                         "chance": 0.4})
    return pd.DataFrame(rows)


def test_a_swap_that_does_almost_nothing_is_said_plainly():
    from gateroles.analyses.causal import section

    text = " ".join(section.swap_sentences(_swaps_summary(0.002)))
    assert ("Swapping input ↔ output does almost nothing in 1 of 1 cells (reset_recall / lstm: "
            "0.002 [-0.008, 0.012]") in text
    assert "argues against distinct input and output roles" in text
    assert "forget ↔ input does almost nothing" not in text
    assert "almost nothing" not in " ".join(section.swap_sentences(_swaps_summary(0.3)))


def test_swap_sentences_give_one_value_for_one_cell_and_a_range_for_several():
    from gateroles.analyses.causal import section

    swaps = pd.DataFrame({"gate_a": "forget", "gate_b": "input",
                          "metric": ["mse", "mse", "accuracy", "accuracy", "accuracy",
                                     "accuracy"],
                          "phase": ["trained", "initial"] * 3,
                          "damage": [0.959, 0.0, 0.641, 0.001, 0.731, 0.003],
                          "damage_ci_high": [1.0, 0.0, 0.7, 0.01, 0.8, 0.01],
                          "score_before": [0.01, 0.2, 1.0, 0.4, 1.0, 0.4],
                          "chance": [1 / 6, 1 / 6, 0.4, 0.4, 0.4, 0.4],
                          "task": "t", "arch": "lstm"})
    mse, accuracy = section.swap_sentences(swaps)
    assert mse == ("Swapping forget ↔ input (MSE gained): mean damage 0.959 trained (1 task x "
                   "architecture cell), 0.000 at step 0.")
    assert "mean damage 0.641 to 0.731 trained (2 task x architecture cells), 0.001 to 0.003" \
        in accuracy
