"""Claim C3: clamps at events on a hand-built memory LSTM, the unit-ablation null, the verdicts
on planted per-seed tables, and block swaps."""

import re
import types

import numpy as np
import pandas as pd
import pytest
import scipy.stats
import torch

from gateroles import gatefile, gates, interventions
from gateroles.analyses.causal import Settings, clamps, role_off, swaps
from gateroles.analyses.causal import aggregate as agg
from gateroles.analyses.causal import measure as causal
from gateroles.models import RecurrentModel, build_model, checkpoint_payload
from gateroles.tasks import make_task

# reset_recall with two values and one distractor: tokens STORE_0 = 0, STORE_1 = 1, RESET = 2,
# QUERY = 3, distractor = 4; answers 0, 1, EMPTY = 2.
TASK = {"n_values": 2, "n_distractors": 1}


def memory_task(n=60, t=40, seed=0):
    return make_task("reset_recall", n, t, seed, **TASK)


def data_of(task) -> causal.Data:
    meta = {"task": task.name, "kind": task.kind, "chance": task.chance, "events": task.events,
            "behaviours": task.behaviours}
    return causal.Data(task.inputs, task.targets, task.mask, task.factors, meta)


def memory_lstm(hidden=1, readout=None, bias=-2.0, dead=()) -> RecurrentModel:
    """A hand-built reset_recall solver; every unit (but the `dead` ones) is one memory cell.

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


def accuracy(model, task) -> float:
    out = interventions.forward(model, task.inputs)["outputs"]
    return float((out.argmax(-1) == task.targets)[task.mask].mean())


def test_the_hand_built_lstm_solves_its_task():
    task = memory_task()
    assert accuracy(memory_lstm(), task) == 1.0


def test_forget_clamped_to_one_at_resets_keeps_stale_memory_and_nothing_elsewhere():
    task = memory_task()
    data = data_of(task)
    controls = {role: causal.matched_control(e, data.quiet, np.random.default_rng(1))
                for role, e in data.events.items()}
    matrix, base = causal.clamp_matrix(memory_lstm(), data, "lstm", controls)
    assert (data.errors(interventions.forward(memory_lstm(), task.inputs)["outputs"]) == base
            ).all()
    damage = matrix.set_index(["gate", "value", "event", "condition", "behaviour"])["damage"]
    # The RESET no longer erases: every query after a reset of a held value answers the old one.
    assert damage["forget", 1.0, "reset", "event", "recall_after_reset"] > 0.5
    assert damage["forget", 1.0, "reset", "event", "recall_after_store"] == 0
    # At quiet steps the forget gate is 1 already: the same clamp changes nothing.
    assert (damage.xs(("forget", 1.0, "reset", "control"),
                      level=["gate", "value", "event", "condition"]) == 0).all()
    # Never writing at stores loses the value; never reading at queries answers EMPTY, which
    # is right after a reset.
    assert damage["input", 0.0, "store", "event", "recall_after_store"] > 0.9
    assert damage["output", 0.0, "query", "event", "recall_after_store"] > 0.9
    assert damage["output", 0.0, "query", "event", "recall_after_reset"] == 0


def test_matched_control_takes_as_many_quiet_steps_per_sequence():
    rng = np.random.default_rng(0)
    events = rng.random((30, 50)) < 0.1
    quiet = ~events & (rng.random((30, 50)) < 0.7)
    control = causal.matched_control(events, quiet, np.random.default_rng(1))
    assert not (control & ~quiet).any()
    np.testing.assert_array_equal(control.sum(1), np.minimum(events.sum(1), quiet.sum(1)))
    again = causal.matched_control(events, quiet, np.random.default_rng(1))
    np.testing.assert_array_equal(control, again)  # seeded


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
    data.events = {"reset": data.events["reset"]}  # the role under test only (faster)
    table, null = causal.unit_ablation(model, activations, data, "lstm", ablation_settings(),
                                       seed=0)
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
    table, _ = causal.unit_ablation(model, activations, data, "lstm", ablation_settings(),
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
        table, null = causal.unit_ablation(regression, activations, data, "lstm",
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
    ("lstm_cifg", [("forget", "input")]), ("rnn", [])])
def test_swaps_and_clamps_per_architecture(arch, expected):
    assert swaps(arch) == expected
    gates_with_clamps = {g for g, _, _ in clamps(arch)}
    assert gates_with_clamps <= set(gates.SIGMOID_GATES[arch])
    assert {g for g, _ in role_off(arch).values()} <= gates_with_clamps


def test_role_off_values():
    assert role_off("lstm") == {"reset": ("forget", 1.0), "store": ("input", 0.0),
                                "query": ("output", 0.0)}
    assert role_off("gru") == {"reset": ("update", 1.0), "store": ("update", 1.0)}
    assert "reset" not in role_off("lstm_nfg")


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
    for table in tables.values():
        assert {"step", "final_step"} <= set(table.columns)
    if arch == "rnn":
        assert all(t.empty for t in tables.values())
        return
    matrix = tables["matrix"]
    assert set(matrix["step"]) == {0, 50} and set(matrix["final_step"]) == {50}
    assert matrix["damage"].notna().all()
    assert set(matrix["gate"]) == {g for g, _, _ in clamps(arch)}
    # Behaviours with no scored step in the sample give no rows, never a damage of 0.
    scored = {b for b, f in task.behaviours.items() if (task.factors[f] & task.mask).any()}
    assert set(matrix["behaviour"]) == scored
    assert set(tables["swaps"][["gate_a", "gate_b"]].itertuples(index=False, name=None)) \
        == set(swaps(arch))
    ablation = tables["ablation"]
    assert set(ablation["k"]) == {1, 2} and (ablation["n_random"] == 19).all()
    assert ablation["p_value"].between(1 / 20, 1).all()


# ------------------------------------------------------------------ verdicts on planted tables

def planted_matrix(effect: float, rival: float, n_seeds=6, noise=0.02, seed=0) -> pd.DataFrame:
    """Per-model matrix rows of an LSTM on reset_recall: forget -> 1 at resets damages
    recall_after_reset by `effect` (trained), every other clamp at resets by `rival`, every
    control and every clamp at step 0 by noise only."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_seeds):
        for step in (0, 100):
            for gate, value, _ in clamps("lstm"):
                for event in ("reset", "store", "query"):
                    for condition in ("event", "control"):
                        for behaviour in ("recall_after_reset", "recall_after_store"):
                            damage = rng.normal(0, noise)
                            if step and event == "reset" and condition == "event" and \
                                    behaviour == "recall_after_reset":
                                damage += effect if gate == "forget" else rival
                            rows.append({"task": "reset_recall", "arch": "lstm",
                                         "init": "default", "seed": s, "step": step,
                                         "final_step": 100, "gate": gate, "value": value,
                                         "event": event, "condition": condition,
                                         "behaviour": behaviour, "damage": damage,
                                         "score": 1 - damage, "base_score": 1.0,
                                         "solved": True})
    return pd.DataFrame(rows)


def aggregated(matrix: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The C3 aggregate of planted matrix rows (no ablation, no swaps)."""
    empty = {name: pd.DataFrame(columns=["task", "arch", "init", "seed", "solved", *cols])
             for name, cols in (("ablation", causal.ABLATION_COLUMNS),
                                ("ablation_null", causal.NULL_COLUMNS),
                                ("swaps", causal.SWAP_COLUMNS))}
    runs = matrix[["task", "arch", "init", "seed", "solved"]].drop_duplicates()
    return agg.aggregate({"matrix": matrix, **empty}, runs, ablation_settings(),
                         types.SimpleNamespace(confidence=0.95, min_seeds=5,
                                               bootstrap_samples=100))


def verdicts(matrix: pd.DataFrame) -> pd.DataFrame:
    return aggregated(matrix)["c3"].set_index("prediction")["verdict"]


AT_RESET = "forget → 1 at reset damages recall_after_reset more than at matched quiet steps"
DIAGONAL = "forget → 1 at reset damages recall_after_reset more than any other gate " \
           "clamped at reset"


def test_verdicts_support_a_planted_role_and_not_an_absent_one():
    planted = verdicts(planted_matrix(effect=0.5, rival=0.1))
    assert planted[AT_RESET] == "supported" and planted[DIAGONAL] == "supported"
    absent = verdicts(planted_matrix(effect=0.0, rival=0.0))
    assert absent[AT_RESET] != "supported" and absent[DIAGONAL] != "supported"
    # Damage at the event but as much from another gate: (a) holds, the diagonal does not.
    shared = verdicts(planted_matrix(effect=0.5, rival=0.5))
    assert shared[AT_RESET] == "supported" and shared[DIAGONAL] != "supported"


def test_unsolved_seeds_are_left_out_and_counted():
    matrix = planted_matrix(effect=0.5, rival=0.1)
    matrix.loc[matrix["seed"] == 0, "solved"] = False
    runs = matrix[["task", "arch", "init", "seed", "solved"]].drop_duplicates()
    empty = {name: pd.DataFrame(columns=["task", "arch", "init", "seed", "solved", *cols])
             for name, cols in (("ablation", causal.ABLATION_COLUMNS),
                                ("ablation_null", causal.NULL_COLUMNS),
                                ("swaps", causal.SWAP_COLUMNS))}
    c3 = agg.aggregate({"matrix": matrix, **empty}, runs, ablation_settings(),
                       types.SimpleNamespace(confidence=0.95, min_seeds=5,
                                             bootstrap_samples=100))["c3"]
    assert (c3["n_seeds"] == 5).all() and (c3["n_unsolved"] == 1).all()
    assert (c3["claim"] == "C3").all()


def test_a_behaviour_without_scored_steps_gives_no_row():
    matrix = planted_matrix(effect=0.5, rival=0.1)
    matrix = matrix[matrix["behaviour"] != "recall_after_reset"]
    assert not verdicts(matrix).index.str.contains("recall_after_reset").any()


def test_section_sentences_come_from_the_tables():
    from gateroles.analyses.causal import section

    matrix = planted_matrix(effect=0.5, rival=0.5)
    out = aggregated(matrix)
    text = " ".join(section.matrix_sentences(out["c3"]))
    # (a) holds at resets only (nothing planted at stores and queries); (b) does not
    assert "steps: supported in 1 of 3" in text and f"Not supported: {DIAGONAL}" in text
    assert section.ablation_sentences(out["ablation"])[0].startswith("No unit ablation")
    assert section.swap_sentences(out["swaps"]) == []
    assert len(out["c3"]) == 6 and "<details>" not in section.fold(out["c3"], "x")
    assert "<details>" in section.fold(pd.concat([out["c3"]] * 3), "x")  # above 12 rows


def test_section_counts_and_lists_contradicted_predictions():
    """A diagonal planted the wrong way round (the forget clamp does less damage than the
    others): the count sentence says how the unsupported ones fell, and the list of
    predictions not supported names the contradicted one with its verdict."""
    from gateroles.analyses.causal import section

    matrix = planted_matrix(effect=0.1, rival=0.5)
    out = aggregated(matrix)
    assert verdicts(matrix)[DIAGONAL] == "contradicted"
    text = " ".join(section.matrix_sentences(out["c3"]))
    assert "steps: supported in 1 of 3 predictions (2 inconclusive)." in text
    assert "events): supported in 0 of 3 predictions (2 inconclusive, 1 contradicted)." in text
    assert re.search(re.escape(DIAGONAL) + r" \(reset_recall, lstm; change -0\.\d+, "
                     r"contradicted;", text)


def test_ablation_sentences_pool_the_seeds_of_every_cell():
    """Per k: p < 0.05 in 4 + 2 of 5 + 5 trained model x role tests (60%), 0 + 1 at step 0
    (10%); the median over cells of the per-cell median effect sizes."""
    from gateroles.analyses.causal import section

    summary = pd.DataFrame({"k": 2, "phase": ["trained", "trained", "initial", "initial"],
                            "n_seeds": 5, "n_p05": [4, 2, 0, 1],
                            "effect_size_median": [2.0, 3.0, 0.1, -0.1]})
    assert section.ablation_sentences(summary) == [
        "k = 2: trained, 6 of 10 model x role tests (60%) with p < 0.05, median effect size "
        "2.50; step 0, 1 of 10 model x role tests (10%) with p < 0.05, median effect size "
        "0.00."]


def test_swap_sentences_give_one_value_for_one_cell_and_a_range_for_several():
    from gateroles.analyses.causal import section

    swaps = pd.DataFrame({"gate_a": "forget", "gate_b": "input",
                          "metric": ["mse", "mse", "accuracy", "accuracy", "accuracy",
                                     "accuracy"],
                          "phase": ["trained", "initial"] * 3,
                          "damage": [0.959, 0.0, 0.641, 0.001, 0.731, 0.003]})
    mse, accuracy = section.swap_sentences(swaps)
    assert mse == ("Swapping forget ↔ input (MSE gained): mean damage 0.959 trained (1 task x "
                   "architecture cell), 0.000 at step 0.")
    assert "mean damage 0.641 to 0.731 trained (2 task x architecture cells), 0.001 to 0.003" \
        in accuracy
