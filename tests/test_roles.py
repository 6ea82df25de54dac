"""C1 role tests: attribution of state changes to gate terms, context dependence."""

import numpy as np
import pandas as pd
import pytest
import torch

from gateroles import gates, stats
from gateroles.analyses.roles import Settings, aggregate
from gateroles.analyses.roles import measure as roles
from gateroles.models import build_model
from gateroles.study import Run

SETTINGS = stats.Settings(bootstrap_samples=200, confidence=0.95, min_seeds=5)


@pytest.mark.parametrize("arch", ["lstm", "gru", "lstm_cifg", "lstm_nig"])
def test_the_two_terms_add_up_to_the_state_change(arch):
    """erase + write is exactly the step's state change (cell for the LSTM family, hidden
    state for the GRU), from a real model's extracted gates."""
    torch.manual_seed(0)
    model = build_model(arch, 5, 8, 3, "default", 30, seed=1)
    acts = gates.extract(model, torch.randn(4, 30, 5))
    terms = roles.change_terms(acts, arch)
    state = roles.memory_state(acts, arch).astype(np.float64)
    np.testing.assert_allclose(terms["erase"] + terms["write"], state - roles.previous(state),
                               atol=1e-5)


def test_memory_units_are_found_on_held_out_sequences():
    rng = np.random.default_rng(0)
    memory = rng.integers(0, 4, size=(40, 30))
    state = rng.normal(size=(40, 30, 8))
    state[..., 5] += 2 * memory
    state[..., 2] -= 1.5 * memory
    assert set(roles.memory_units(state, memory, share=0.25)) == {2, 5}


def synthetic_lstm(n=40, t=60, h=8, trained=True, seed=0):
    """Gates of an LSTM that erases its memory units with the forget gate at resets (trained)
    or whose gates ignore the events (step 0)."""
    rng = np.random.default_rng(seed)
    is_reset = rng.random((n, t)) < 0.1
    is_store = (rng.random((n, t)) < 0.1) & ~is_reset
    memory = np.zeros((n, t), dtype=np.int64)
    f = np.full((n, t, h), 0.97)
    i = np.full((n, t, h), 0.05)
    g = rng.uniform(-0.3, 0.3, (n, t, h))
    if trained:
        f[is_reset] = 0.02
        i[is_store] = 0.95
    else:
        f += rng.normal(0, 0.01, f.shape)
    c = np.zeros((n, t, h))
    for step in range(t):
        prev = c[:, step - 1] if step else 0.0
        c[:, step] = f[:, step] * prev + i[:, step] * g[:, step]
        stored = is_store[:, step]
        memory[:, step] = np.where(stored, 1, np.where(is_reset[:, step], 0,
                                                       memory[:, step - 1] if step else 0))
    c[..., :2] += 3 * memory[..., None]  # units 0-1 carry the memory
    acts = {"input": i, "forget": f, "cell_candidate": g, "output": np.full((n, t, h), 0.5),
            "cell": c, "hidden": np.tanh(c)}
    factors = {"is_reset": is_reset.astype(np.int64), "is_store": is_store.astype(np.int64),
               "memory": memory}
    return acts, factors


def test_attribution_of_a_hand_worked_cell():
    """One unit, one STORE (t = 2) and one RESET (t = 3), every term worked out by hand.

    f = 1, 1, 0.5, 0.5; i = 1, 0, 1, 1; g = 1, 0, 0.5, -3 give c = 1, 1, 1, -2.5, so
    |c_prev| = 0, 1, 1, 1, erase = (f - 1) c_prev = 0, 0, -0.5, -0.5 and write = i g = 1, 0,
    0.5, -3. Quiet steps (no event): t = 0, 1. At the RESET the forget term removes 0.5 of
    |c_prev| = 1 and the write term, pointing against c_prev with size 3, at most |c_prev|: 1;
    at the quiet steps neither removes anything (0 of |c_prev| = 0 + 1). Excesses 0.5 and 1,
    the forget term's share 0.5 / 1.5 = 1/3. At the STORE the gate is 1 against a quiet mean
    of 0.5 (log 2) and |g| 0.5 against 0.5 (log 1 = 0): the gate's share of the selectivity
    is 1."""
    f = np.array([1.0, 1.0, 0.5, 0.5])
    i = np.array([1.0, 0.0, 1.0, 1.0])
    g = np.array([1.0, 0.0, 0.5, -3.0])
    c = np.array([1.0, 1.0, 1.0, -2.5])

    def two(x):  # [2 sequences, 4 steps, 1 unit]: sequence 0 selects, sequence 1 is measured
        return np.repeat(x[None, :, None], 2, axis=0)

    acts = {"forget": two(f), "input": two(i), "cell_candidate": two(g), "cell": two(c),
            "output": two(np.ones(4)), "hidden": two(np.tanh(c))}
    factors = {"is_store": two(np.array([0, 0, 1, 0]))[..., 0],
               "is_reset": two(np.array([0, 0, 0, 1]))[..., 0],
               "memory": two(np.array([0, 0, 1, 0]))[..., 0]}
    meta = {"events": {"reset": "is_reset", "store": "is_store"}, "memory": "memory"}
    rows = {r["event"]: r for r in roles.share_rows(acts, factors, meta, "lstm", 1.0)}
    reset, store = rows["reset"], rows["store"]
    assert reset["own_excess"] == pytest.approx(0.5) and reset["other_excess"] == pytest.approx(1)
    assert reset["share"] == pytest.approx(1 / 3) and reset["gate"] == "forget"
    assert store["own_excess"] == pytest.approx(np.log(2)) and store["other_excess"] == 0
    assert store["share"] == 1.0 and store["gate"] == "input"
    assert reset["n_events"] == store["n_events"] == 1 and reset["n_units"] == 1


def test_memory_units_are_chosen_on_the_even_sequences_and_measured_on_the_odd():
    """The memory sits in units 0-1 on the even sequences and in units 2-3 on the odd ones;
    only units 0-1 erase at resets. Chosen on the even sequences, the erasing units are the
    ones measured (the forget term's share of the extra erasure ~1); chosen on the measured odd
    ones, units 2-3 would be (their forget gate ignores resets: share 0)."""
    acts, factors = synthetic_lstm()
    acts = {k: v.copy() for k, v in acts.items()}
    acts["forget"][..., 2:] = 0.97
    memory = factors["memory"][1::2, :, None]
    acts["cell"][1::2, :, :2] -= 3 * memory
    acts["cell"][1::2, :, 2:4] += 3 * memory
    meta = {"events": {"reset": "is_reset", "store": "is_store"}, "memory": "memory"}
    rows = {r["event"]: r for r in roles.share_rows(acts, factors, meta, "lstm", 0.25)}
    assert rows["reset"]["share"] > 0.9


# --------------------------------------------------------------------------- hand-built nets

DISTRACTOR, STORE, RESET = 0, 1, 2


def alternating_tokens(n=60, t=80, seed=0):
    """STORE and RESET in turn with distractors between (so the memory is 0 or 1)."""
    rng = np.random.default_rng(seed)
    tokens = np.zeros((n, t), dtype=np.int64)
    for row in tokens:
        step, nxt = int(rng.integers(1, 4)), STORE
        while step < t:
            row[step], nxt = nxt, RESET if nxt == STORE else STORE
            step += int(rng.integers(3, 7))
    return tokens


def hand_built_lstm(erase_with: str, noise: float = 0.0, seed: int = 0) -> torch.nn.LSTM:
    """One LSTM unit (no recurrence) that stores 1 at STORE and erases it at RESET, with the
    forget gate (f -> 0 at RESET) or with the input term (f held at 1, i -> 1 and g -> -1 at
    RESET). Rows: i, f, g, o; columns: distractor, STORE, RESET."""
    lstm = torch.nn.LSTM(3, 1, batch_first=True)
    big = 10.0
    w = {"i": [-big, big, big if erase_with == "input" else -big],
         "f": [big, big, big if erase_with == "input" else -big],
         "g": [0.5, 5.5, -4.5], "o": [big, big, big]}
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in lstm.parameters():
            p.zero_()
        lstm.weight_ih_l0.copy_(torch.tensor([w["i"], w["f"], w["g"], w["o"]])
                                + noise * torch.tensor(rng.normal(size=(4, 3)),
                                                       dtype=torch.float32))
    return lstm


def hand_built_factors(tokens):
    memory = np.zeros_like(tokens)
    held = np.zeros(tokens.shape[0], dtype=np.int64)
    for step in range(tokens.shape[1]):
        held = np.where(tokens[:, step] == STORE, 1, np.where(tokens[:, step] == RESET, 0, held))
        memory[:, step] = held
    return {"is_store": (tokens == STORE).astype(np.int64),
            "is_reset": (tokens == RESET).astype(np.int64), "memory": memory}


META = {"events": {"reset": "is_reset", "store": "is_store"}, "memory": "memory"}


@pytest.mark.parametrize("erase_with, expected", [("forget", 1.0), ("input", 0.0)])
def test_the_erasure_share_names_the_term_that_erases(erase_with, expected):
    """A hand-built LSTM that erases at RESET with its forget gate gives the forget term a
    share of ~1 of the extra erasure; one that erases through the input term (f held at 1,
    i g = -c) a share of ~0. Its cell really is emptied at every RESET in both."""
    tokens = alternating_tokens()
    inputs = np.eye(3, dtype=np.float32)[tokens]
    acts = gates.extract(hand_built_lstm(erase_with), inputs)
    factors = hand_built_factors(tokens)
    assert np.abs(acts["cell"][tokens == RESET]).max() < 0.01
    assert np.abs(acts["cell"][(factors["memory"] == 1)] - 1).max() < 0.01
    rows = {r["event"]: r for r in roles.share_rows(acts, factors, META, "lstm", 0.25)}
    assert rows["reset"]["share"] == pytest.approx(expected, abs=0.01)
    # at stores the input gate opens and the candidate is ~1 vs ~0.46: both select the write,
    # the gate (logit -10 -> 10) far more
    assert rows["store"]["share"] > 0.8 and rows["store"]["gate"] == "input"


def test_the_write_selectivity_share_names_the_factor_that_selects():
    rng = np.random.default_rng(2)
    at = rng.random((40, 50)) < 0.1
    quiet = ~at
    gate_selects = np.where(at[..., None], 0.95, 0.05) * np.ones((1, 1, 4))
    candidate = 0.8 * np.ones((40, 50, 4))
    assert roles.write_selectivity_share(gate_selects, candidate, at, quiet)["share"] == 1.0
    flat_gate = np.full((40, 50, 4), 0.5)
    candidate_selects = np.where(at[..., None], 0.9, 0.05) * np.ones((1, 1, 4))
    out = roles.write_selectivity_share(flat_gate, candidate_selects, at, quiet)
    assert out["share"] == 0.0 and out["own_excess"] == 0.0 and out["other_excess"] > 2
    assert np.isnan(roles.write_selectivity_share(flat_gate, candidate, at, quiet)["share"])


def test_the_context_contrast_uses_only_the_armed_against_unarmed_reset():
    """memory_context_rows reads tasks.ROLE_CONTEXTS: on armed_reset the armed/unarmed RESET
    pair; reset_recall's RESET-on-empty-memory pair is not a prediction of the role."""
    rng = np.random.default_rng(1)
    n, t, h = 30, 50, 6
    acting = rng.random((n, t)) < 0.05
    inert = (rng.random((n, t)) < 0.05) & ~acting
    memory = rng.integers(0, 3, (n, t))
    forget = np.full((n, t, h), 0.9)
    forget[acting] = 0.1  # a gate that knows the state
    cell = rng.normal(size=(n, t, h))
    cell[..., 0] += 3 * memory  # unit 0 carries the memory
    acts = {"forget": forget, "cell": cell}
    factors = {"reset_acts": acting.astype(np.int64), "reset_inert": inert.astype(np.int64),
               "memory": memory}
    meta = {"memory": "memory"}
    row = roles.memory_context_rows(acts, factors, meta, "lstm", "armed_reset", 1 / 6)[0]
    assert row["gate"] == "forget" and row["difference"] == pytest.approx(-0.8)
    assert row["n_units"] == 1
    assert roles.memory_context_rows(acts, factors, meta, "lstm", "reset_recall", 1 / 6) == []
    forget[inert] = 0.1  # a gate that only reads its input responds to both
    assert roles.memory_context_rows(acts, factors, meta, "lstm", "armed_reset", 1 / 6)[0][
        "difference"] == pytest.approx(0.0)


def _tables(gate_file, arch, erase_with, seeds=range(5)):
    tables = {"shares": [], "context": []}
    for seed in seeds:
        tokens = alternating_tokens(seed=seed)
        inputs = np.eye(3, dtype=np.float32)[tokens]
        trained = gates.extract(hand_built_lstm(erase_with, noise=0.3, seed=seed), inputs)
        untrained = gates.extract(build_model("lstm", 3, 1, 2, "default", 80, seed=seed).rnn,
                                  inputs)
        if arch == "lstm_nfg":  # the control's gate file has no forget gate (held at 1)
            trained.pop("forget")
            untrained.pop("forget")
        inputs = gate_file(hand_built_factors(tokens), {0: untrained, 500: trained},
                           tokens=tokens, **META)
        out = roles.measure(inputs, Run("synthetic", arch, "default", seed),
                            Settings(memory_units=0.25))
        for name in tables:
            tables[name].append(out[name].assign(task="synthetic", arch=arch, init="default",
                                                 seed=seed, solved=True))
    return {name: pd.concat(frames, ignore_index=True) for name, frames in tables.items()}


def test_the_share_verdict_counts_beside_a_control_that_erases_through_the_input(gate_file):
    """Five hand-built LSTMs that erase with the forget gate: supported against one half;
    their control, five that erase through the input term with the forget gate held at 1
    (lstm_nfg, its forget gate absent from the gate file), comes out contradicted, so the
    prediction counts. With the roles the other way round, it is contradicted."""
    tested = _tables(gate_file, "lstm", "forget")
    control = _tables(gate_file, "lstm_nfg", "input")
    assert set(tested["shares"]["step"]) == {0, 500}
    verdicts = aggregate.role_verdicts(tested["shares"], tested["context"], SETTINGS,
                                       control["shares"], control["context"])
    row = verdicts[verdicts["prediction"] == aggregate.PREDICTIONS["reset"]].iloc[0]
    assert row["verdict"] == "supported" and row["trained"] > 0.95 and row["counted"]
    # the control's share is exactly 0 in every seed: the sign test's floor 1/32 is all five
    # seeds can show, so it is not supported (it cannot be "contradicted" either)
    assert row["control"].startswith("lstm_nfg") and row["control_change"] == -0.5
    assert row["control_verdict"] == "inconclusive"
    assert row["decided_on"].startswith("trained vs 0.5") and row["test"] == "primary"
    reversed_roles = _tables(gate_file, "lstm", "input")
    verdicts = aggregate.role_verdicts(reversed_roles["shares"], reversed_roles["context"],
                                       SETTINGS)
    row = verdicts[verdicts["prediction"] == aggregate.PREDICTIONS["reset"]].iloc[0]
    assert row["trained"] < 0.05 and row["verdict"] in ("contradicted", "inconclusive")
    assert not row["counted"]
