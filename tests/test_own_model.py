"""The role analyses on a user's own model (gateroles.own_model), on a hand-built network whose
answers are known: a one-unit LSTM that stores a value at STORE, erases it at RESET, and shows
its memory at the last step."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from gateroles import own_model
from gateroles.own_model import measure as om

N, T = 40, 12


class StoreReset(nn.Module):
    """x = (value, store flag, reset flag): i = 1 at stores (else ~2e-9), f = 0 at resets
    (else exactly 1), g = tanh(value), o = 1; the output is the last hidden state."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(3, 1, batch_first=True)

    def forward(self, x):
        hidden, _ = self.rnn(x)
        return hidden[:, -1, 0]


def build():
    model = StoreReset()
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        rnn = model.rnn
        rnn.weight_ih_l0[0, 1], rnn.bias_ih_l0[0] = 40.0, -20.0  # input gate <- store
        rnn.weight_ih_l0[1, 2], rnn.bias_ih_l0[1] = -60.0, 30.0  # forget gate, off at reset
        rnn.weight_ih_l0[2, 0] = 1.0  # g = tanh(value)
        rnn.bias_ih_l0[3] = 30.0  # output = 1
    return model


def recall(outputs, inputs):
    """Minus the squared error of the last output against what the memory should hold."""
    x = inputs["x"]
    stored = torch.tanh(torch.tanh((x[..., 0] * x[..., 1]).sum(1)))
    erased = x[..., 2].sum(1) > 0
    return {"recall": -(outputs - torch.where(erased, 0.0, stored)) ** 2}


def _files(tmp_path):
    rng = np.random.default_rng(0)
    x = np.zeros((N, T, 3), dtype=np.float32)
    x[..., 0] = rng.uniform(0.5, 1.5, (N, T))
    store, reset = rng.integers(1, 5, N), rng.integers(6, 10, N)
    events = {"store": np.zeros((N, T), bool), "reset": np.zeros((N, T), bool)}
    for n in range(N):
        x[n, store[n], 1] = 1
        events["store"][n, store[n]] = True
        if n % 2 == 0:  # half the sequences erase their memory
            x[n, reset[n], 2] = 1
            events["reset"][n, reset[n]] = True
    torch.save(build().state_dict(), tmp_path / "model.pt")
    np.savez(tmp_path / "inputs.npz", x=x)
    np.savez(tmp_path / "events.npz", **events)
    return own_model.Settings(
        name="store_reset", factory="test_own_model:build", checkpoint=str(tmp_path / "model.pt"),
        inputs=str(tmp_path / "inputs.npz"), events=str(tmp_path / "events.npz"),
        behaviour="test_own_model:recall", module="", window=2, confidence=0.95,
        min_sequences=10, seed=0)


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    return om.measure(_files(tmp_path_factory.mktemp("store_reset")))


def _row(table, **keys):
    sel = table
    for key, value in keys.items():
        sel = sel[sel[key] == value]
    assert len(sel) == 1, keys
    return sel.iloc[0]


def test_the_gate_at_its_event_moves_and_the_others_do_not(tables):
    population = tables["event_population"]
    assert _row(population, gate="input", event="store")["response"] == "rises"
    assert _row(population, gate="forget", event="reset")["response"] == "drops"
    assert _row(population, gate="forget", event="reset")["n_sequences"] == N // 2
    output = population[population["gate"] == "output"]
    # the output gate is constant: every sequence's difference is exactly 0, untestable
    assert (output["mean"] == 0).all() and (output["response"] == "does not move at all").all()
    units = tables["event_units"]
    assert len(units) == 2 * 4 and set(units["unit"]) == {0}
    aligned = tables["event_aligned"]
    curve = aligned[(aligned["gate"] == "input") & (aligned["event"] == "store")]
    assert list(curve["offset"]) == [-2, -1, 0, 1, 2]
    assert curve.set_index("offset")["mean"].idxmax() == 0


def test_the_interchange_damages_only_where_the_gate_does_its_role(tables):
    matrix = tables["perturbation"]
    assert len(matrix) == 4 * 2  # gates x events x the one behaviour
    # never write at the store, or never erase at the reset: the recall fails
    for gate, event in (("input", "store"), ("forget", "reset")):
        row = _row(matrix, gate=gate, event=event)
        assert row["verdict"] == "supported" and row["damage_event"] > 0.1, (gate, event)
        assert abs(row["damage_control"]) < 1e-6  # quiet steps swapped for quiet steps
    # the candidate at a store swapped for another step's: another value is stored
    row = _row(matrix, gate="cell_candidate", event="store")
    assert row["damage_event"] > 0 and abs(row["damage_control"]) < 1e-6
    # the forget gate is 1 at stores and at quiet steps alike, the output gate always 1
    for gate, event in (("forget", "store"), ("output", "store"), ("output", "reset")):
        row = _row(matrix, gate=gate, event=event)
        assert row["damage_event"] == 0 and row["verdict"] == "untestable"  # nothing moved
    tested = matrix["verdict"].isin(["supported", "contradicted", "inconclusive"])
    assert matrix.loc[tested, "p_adjusted"].notna().all()  # the untestable ones leave the family
    assert matrix.loc[~tested, "p_adjusted"].isna().all()


def test_the_erasing_term_takes_the_state_change_at_resets(tables):
    shares = tables["attribution"]
    reset = _row(shares, event="reset")
    assert reset["verdict"] == "supported" and reset["share_event"] > 0.99
    assert reset["share_quiet"] < 0.01
    assert ((shares[["share_event", "share_quiet"]] >= 0) &
            (shares[["share_event", "share_quiet"]] <= 1)).all().all()
    assert tables["summary"]["decomposition_error"] < 1e-6
    json.dumps(tables["summary"])  # the summary is plain data


def test_matched_quiet_steps_come_from_the_same_sequence():
    rng = np.random.default_rng(1)
    events = rng.random((30, 20)) < 0.2
    quiet = ~events & (rng.random((30, 20)) < 0.7)
    at, donors, control, control_donors = om.matched_quiet(events, quiet, rng)
    has_quiet = quiet.any(1)
    assert (at == events & has_quiet[:, None]).all()
    for n in range(30):
        assert quiet[n, donors[n, at[n]]].all()  # every donor is a quiet step of its sequence
        assert control[n].sum() == min(at[n].sum(), quiet[n].sum())
        assert (quiet[n] | ~control[n]).all() and quiet[n, control_donors[n, control[n]]].all()
        if quiet[n].sum() >= at[n].sum():  # donors without replacement while they last
            assert len(set(donors[n, at[n]])) == at[n].sum()


def test_per_sequence_contrast():
    values = np.arange(12, dtype=float).reshape(1, 6, 2)
    at = np.array([[True, False, True, False, False, False]])
    rest = np.array([[False, True, False, True, True, False]])
    # unit u at step t holds 2t + u: steps 0, 2 average 2 + u, steps 1, 3, 4 average 16/3 + u
    np.testing.assert_allclose(om.per_sequence_contrast(values, at, rest), [[-10 / 3] * 2])
    assert np.isnan(om.per_sequence_contrast(values, at & False, rest)).all()


def test_bad_files_and_names_are_explained(tmp_path):
    settings = _files(tmp_path)
    np.savez(tmp_path / "events.npz", store=np.zeros((N, T + 1), bool))
    with pytest.raises(ValueError, match=r"'store' is bool \[40, 13\]; every event mask must "
                                         r"be boolean \[N, T\] = \[40, 12\]"):
        om.measure(settings)
    torch.save(torch.zeros(3), tmp_path / "model.pt")
    with pytest.raises(TypeError, match="holds a Tensor; expected a state_dict"):
        own_model.load_model(settings)
    with pytest.raises(ValueError, match="is not of the form 'pkg.module:function'"):
        own_model.import_object("gateroles.examples.g2p.build")
    with pytest.raises(ValueError, match="module 'gateroles.examples.g2p' has no 'nothing'"):
        own_model.import_object("gateroles.examples.g2p:nothing")
    with pytest.raises(ValueError, match="expected a .npz or .pt file"):
        own_model.load_arrays(tmp_path / "inputs.csv")


def test_report_and_figures_render(tables, tmp_path):
    from gateroles.own_model import figures, report

    paths = {}
    for name, draw in figures.FIGURES.items():
        paths[name] = str(tmp_path / f"{name}.png")
        from gateroles import plots

        plots.save(draw(tables), paths[name], str(tmp_path / f"{name}.pdf"))
    html = report.render(tables["summary"], {k: v for k, v in tables.items()
                                             if isinstance(v, pd.DataFrame)}, paths)
    assert "Gate roles in store_reset" in html and html.count("data:image/png;base64") == 4
    assert "sequences take the place of seeds" in html
