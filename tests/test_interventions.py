"""Clamps inside the recurrence, stacked conditions, the differentiable mode and block swaps."""

import numpy as np
import pytest
import torch

from gateroles import gates, interventions
from gateroles.models import ARCHITECTURES, SPECS, RecurrentModel, build_model

N, T, H = 4, 12, 6


def _model(arch, layers=1, seed=0):
    torch.manual_seed(seed)
    return RecurrentModel(arch, 3, H, 2, num_layers=layers)


def _x(seed=0, n=N):
    return torch.randn(n, T, 3, generator=torch.Generator().manual_seed(seed)) * 2


def _at(step, n=N):
    """A per-step mask [n, T, 1], true at `step`."""
    where = np.zeros((n, T, 1), dtype=bool)
    where[:, step] = True
    return where


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_no_clamp_is_the_module_and_extract(arch):
    model, x = _model(arch, layers=2), _x()
    out = interventions.forward(model, x)
    with torch.no_grad():
        np.testing.assert_allclose(out["outputs"], model(x).numpy(), atol=1e-5)
        np.testing.assert_allclose(out["hidden"], model.rnn(x)[0].numpy(), atol=1e-5)
    extracted = gates.extract(model, x)
    assert set(out) == set(extracted) | {"outputs"}
    for name, value in extracted.items():
        np.testing.assert_array_equal(out[name], value)


@pytest.mark.parametrize("cls", [torch.nn.LSTM, torch.nn.GRU, torch.nn.RNN])
def test_bare_modules(cls):
    module = cls(3, H, batch_first=True)
    out = interventions.forward(module, _x().numpy())
    with torch.no_grad():
        np.testing.assert_allclose(out["hidden"], module(_x())[0].numpy(), atol=1e-5)
    np.testing.assert_array_equal(out["outputs"], out["hidden"])  # a bare module's own output


def test_forget_clamped_to_zero_erases_the_cell():
    model, x = _model("lstm"), _x()
    plain = interventions.forward(model, x)
    out = interventions.forward(model, x, {"forget": (_at(5), 0.0)})
    assert (out["forget"][:, 5] == 0).all()
    np.testing.assert_allclose(out["cell"][:, 5], out["input"][:, 5] * out["cell_candidate"][:, 5],
                               atol=1e-6)
    np.testing.assert_array_equal(out["cell"][:, :5], plain["cell"][:, :5])
    assert np.abs(out["hidden"][:, 6:] - plain["hidden"][:, 6:]).max() > 1e-3  # it propagates


def _store_and_read_lstm() -> RecurrentModel:
    """One unit: x = (value, store). i = 1 at stores and 0 elsewhere, f = o = 1, g = tanh(value);
    so c holds tanh(value) from the store on, and the read-out is h = tanh(c)."""
    model = RecurrentModel("lstm", 2, 1, 1)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.rnn.weight_ih_l0[0, 1] = 40.0  # input gate <- store
        model.rnn.bias_ih_l0[0] = -20.0
        model.rnn.bias_ih_l0[1] = 30.0  # forget = 1
        model.rnn.weight_ih_l0[2, 0] = 1.0  # g = tanh(value)
        model.rnn.bias_ih_l0[3] = 30.0  # output = 1
        model.readout.weight[0, 0] = 1.0
    return model


def test_a_stored_value_is_lost_after_a_forget_clamp():
    model = _store_and_read_lstm()
    x = np.zeros((1, T, 2), dtype=np.float32)
    x[0, 2] = (0.8, 1.0)  # store 0.8 at step 2
    plain = interventions.forward(model, x)
    assert abs(plain["outputs"][0, -1, 0] - np.tanh(np.tanh(0.8))) < 1e-4  # remembered
    erased = interventions.forward(model, x, {"forget": (_at(6, 1), 0.0)})
    np.testing.assert_allclose(erased["outputs"][0, :6], plain["outputs"][0, :6])
    assert np.abs(erased["outputs"][0, 6:]).max() < 1e-6  # forgotten from the clamp on


def test_output_and_input_clamps():
    model, x = _model("lstm"), _x()
    plain = interventions.forward(model, x)
    out = interventions.forward(model, x, {"output": (_at(4), 0.0)})
    assert (out["hidden"][:, 4] == 0).all()
    np.testing.assert_array_equal(out["cell"][:, 4], plain["cell"][:, 4])  # read-out only
    out = interventions.forward(model, x, {"input": (_at(7), 0.0)})
    np.testing.assert_allclose(out["cell"][:, 7], out["forget"][:, 7] * out["cell"][:, 6],
                               atol=1e-6)


def test_gru_update_clamped_to_one_keeps_the_state():
    model, x = _model("gru"), _x()
    where = np.zeros((N, T, 1), dtype=bool)
    where[:, 3:6] = True
    out = interventions.forward(model, x, {"update": (where, 1.0)})
    for t in (3, 4, 5):
        np.testing.assert_array_equal(out["hidden"][:, t], out["hidden"][:, 2])
    assert np.abs(out["hidden"][:, 6] - out["hidden"][:, 5]).max() > 1e-3


@pytest.mark.parametrize("arch,gate", [("lstm", "cell_candidate"), ("gru", "candidate"),
                                       ("gru", "reset"), ("lstm_cifg", "forget"),
                                       ("lstm_nog", "input")])
def test_any_gate_clamp_takes_the_value_and_propagates(arch, gate):
    model, x = _model(arch), _x()
    plain = interventions.forward(model, x)
    out = interventions.forward(model, x, {gate: (_at(3), 0.3)})
    np.testing.assert_allclose(out[gate][:, 3], 0.3, atol=1e-6)
    assert np.abs(out["hidden"][:, 4:] - plain["hidden"][:, 4:]).max() > 1e-4


def test_where_all_false_changes_nothing():
    for arch in ("lstm", "gru"):
        model, x = _model(arch), _x()
        plain = interventions.forward(model, x)
        clamp = {g: (np.zeros((N, T, H), dtype=bool), 0.0) for g in SPECS[arch].gates}
        out = interventions.forward(model, x, clamp)
        for name in plain:
            np.testing.assert_array_equal(out[name], plain[name])


@pytest.mark.parametrize("arch", ["lstm", "gru"])
def test_broadcast_masks_and_values_equal_full_arrays(arch):
    model, x = _model(arch), _x()
    gate = SPECS[arch].gates[1]
    rng = np.random.default_rng(0)
    per_step = rng.random((N, T, 1)) < 0.3
    per_unit = rng.random((1, 1, H)) < 0.5
    values = rng.random((1, 1, H)).astype(np.float32)
    for where, value in ((per_step, 0.0), (per_unit, values), (per_step & per_unit, values)):
        full = interventions.forward(model, x, {gate: (np.broadcast_to(where, (N, T, H)).copy(),
                                                       np.broadcast_to(value, (N, T, H)).copy())})
        short = interventions.forward(model, x, {gate: (where, value)})
        for name in full:
            np.testing.assert_array_equal(short[name], full[name])


def test_bad_clamps_are_named():
    x = _x()
    with pytest.raises(ValueError, match="the gates of lstm are input, forget, cell_candidate, "
                                         "output"):
        interventions.forward(_model("lstm"), x, {"update": (True, 0.0)})
    with pytest.raises(ValueError, match="the gates of lstm_nfg are input, cell_candidate, "
                                         "output"):
        interventions.forward(_model("lstm_nfg"), x, {"forget": (True, 0.0)})
    with pytest.raises(ValueError, match="gates of rnn are none"):
        interventions.forward(_model("rnn"), x, {"hidden": (True, 0.0)})
    with pytest.raises(ValueError, match="must be boolean"):
        interventions.forward(_model("lstm"), x, {"input": (np.ones((N, T, H)), 0.0)})
    with pytest.raises(ValueError, match="must broadcast"):
        interventions.forward(_model("lstm"), x, {"input": (np.ones((N, T + 1, 1), bool), 0.0)})


@pytest.mark.parametrize("arch", [a for a in ARCHITECTURES if SPECS[a].gates])
def test_fast_clamps_equal_the_differentiable_twin(arch):
    model, x = _model(arch, layers=2), _x()
    rng = np.random.default_rng(1)
    clamp = {g: (rng.random((N, T, H)) < 0.3, float(k) / 3)
             for k, g in enumerate(SPECS[arch].gates)}
    fast = interventions.forward(model, x, clamp, layer=0)
    twin = interventions.forward(model, x, clamp, layer=0, differentiable=True)
    for name, value in fast.items():
        np.testing.assert_allclose(value, twin[name].detach().numpy(), atol=1e-5, err_msg=name)


@pytest.mark.parametrize("arch", ["lstm", "gru"])
def test_stacked_conditions_equal_separate_calls(arch):
    model, x = _model(arch), _x()
    gate_a, gate_b = SPECS[arch].gates[:2]
    rng = np.random.default_rng(2)
    conditions = [None, {gate_a: (_at(3), 0.0)}, {gate_b: (rng.random((1, 1, H)) < 0.5, 1.0)},
                  {gate_a: (rng.random((N, T, H)) < 0.2, rng.random((N, T, H))),
                   gate_b: (_at(8), 0.5)}]
    together = interventions.forward_conditions(model, x, conditions)
    in_pairs = interventions.forward_conditions(model, x, conditions, batch_size=2 * N)
    for k, condition in enumerate(conditions):
        alone = interventions.forward(model, x, condition)
        assert together[k].keys() == alone.keys() == in_pairs[k].keys()
        for name in alone:
            np.testing.assert_allclose(together[k][name], alone[name], atol=1e-6)
            np.testing.assert_allclose(in_pairs[k][name], alone[name], atol=1e-6)
    labelled = interventions.forward_conditions(model, x, {"none": None, "a": conditions[1]})
    np.testing.assert_allclose(labelled["a"]["hidden"], together[1]["hidden"], atol=1e-6)


# ------------------------------------------------------------------ differentiable mode

def _state_grads(model, x, state, clamp=None, detach=False, t_loss=T - 1):
    """dL/d(state_s) for every s, with L a fixed projection of h at step `t_loss`."""
    eps = torch.zeros(N, T, H, requires_grad=True)
    out = interventions.forward(model, x, clamp, differentiable=True,
                                state_offsets={state: eps}, detach_recurrent=detach)
    (out["hidden"][:, t_loss] @ torch.linspace(-1, 1, H)).sum().backward()
    return eps.grad


def test_forget_one_and_detached_h_carry_the_gradient_with_factor_one():
    model, x = _model("lstm"), _x()
    ones = np.ones((N, T, H), dtype=bool)
    for t_loss in (T - 1, 6):
        grad = _state_grads(model, x, "cell", {"forget": (ones, 1.0)}, detach=True,
                            t_loss=t_loss)
        local = grad[:, t_loss]
        assert local.abs().min() > 0
        for s in range(t_loss + 1):
            assert torch.equal(grad[:, s], local)
        assert not grad[:, t_loss + 1:].any()


def test_forget_constant_decays_the_gradient_geometrically():
    model, x, a = _model("lstm"), _x(), 0.7
    grad = _state_grads(model, x, "cell", {"forget": (np.ones((N, T, H), bool), a)},
                        detach=True)
    for s in range(T):
        torch.testing.assert_close(grad[:, s], grad[:, -1] * a ** (T - 1 - s), rtol=1e-5,
                                   atol=1e-12)


def test_gru_update_gate_is_its_direct_path_and_the_rnn_has_none():
    model, x, a = _model("gru"), _x(), 0.6
    grad = _state_grads(model, x, "hidden", {"update": (np.ones((N, T, H), bool), a)},
                        detach=True)
    for s in range(T):
        torch.testing.assert_close(grad[:, s], grad[:, -1] * a ** (T - 1 - s), rtol=1e-5,
                                   atol=1e-12)
    grad = _state_grads(_model("rnn"), x, "hidden", detach=True)
    assert grad[:, -1].abs().min() > 0 and not grad[:, :-1].any()


@pytest.mark.parametrize("arch,state", [("lstm", "cell"), ("lstm", "hidden"), ("gru", "hidden"),
                                        ("rnn", "hidden")])
def test_without_recurrent_weights_the_full_gradient_is_the_detached_one(arch, state):
    model, x = _model(arch), _x()
    with torch.no_grad():
        model.rnn.weight_hh_l0.zero_()
    full = _state_grads(model, x, state)
    torch.testing.assert_close(full, _state_grads(model, x, state, detach=True))
    model = _model(arch)  # with recurrent weights the paths through h do add up
    assert not torch.allclose(_state_grads(model, x, state),
                              _state_grads(model, x, state, detach=True))


def test_offsets_need_the_differentiable_mode_and_a_real_state():
    with pytest.raises(ValueError, match="differentiable=True"):
        interventions.forward(_model("lstm"), _x(), state_offsets={"cell": torch.zeros(1)})
    with pytest.raises(ValueError, match="its states: hidden"):
        interventions.forward(_model("gru"), _x(), differentiable=True,
                              state_offsets={"cell": torch.zeros(N, T, H)})


# ------------------------------------------------------------------ block swaps

def test_swapping_twice_is_the_identity():
    for model, pair in ((_model("lstm", layers=2), ("forget", "input")),
                        (_model("gru"), ("reset", "update")),
                        (torch.nn.LSTM(3, H, batch_first=True), ("output", "cell_candidate"))):
        twice = interventions.swap_blocks(interventions.swap_blocks(model, *pair), *pair)
        for (name, p), q in zip(model.state_dict().items(), twice.state_dict().values(),
                                strict=True):
            assert torch.equal(p, q), name
        assert not torch.equal(interventions.swap_blocks(model, *pair).state_dict()[
            next(iter(model.state_dict()))], next(iter(model.state_dict().values())))


def test_swapped_forget_is_the_original_input_gate():
    model, x = _model("lstm"), _x()
    original = gates.extract(model, x, preactivations=True)
    swapped = interventions.swap_blocks(model, "forget", "input")
    g = gates.extract(swapped, x, preactivations=True)
    # step 0 (h = 0): the gates depend on x alone, so the swap exchanges them exactly
    np.testing.assert_allclose(g["forget"][:, 0], original["input"][:, 0], atol=1e-7)
    np.testing.assert_allclose(g["input"][:, 0], original["forget"][:, 0], atol=1e-7)
    # every step: the swapped forget logit is the original input rows applied to the swapped
    # model's own state
    rnn = model.rnn
    rows = slice(0, H)
    h_prev = np.concatenate([np.zeros((N, 1, H)), g["hidden"][:, :-1]], axis=1)
    with torch.no_grad():
        expected = (x.numpy() @ rnn.weight_ih_l0[rows].numpy().T + h_prev
                    @ rnn.weight_hh_l0[rows].numpy().T
                    + (rnn.bias_ih_l0 + rnn.bias_hh_l0)[rows].numpy())
    np.testing.assert_allclose(g["forget_logit"], expected, atol=1e-5)
    assert np.abs(g["hidden"] - original["hidden"]).max() > 1e-3


def test_swap_rules_for_variants():
    with pytest.raises(ValueError, match="cannot swap 'forget'"):
        interventions.swap_blocks(_model("lstm_nfg"), "forget", "input")
    cifg = build_model("lstm_cifg", 3, H, 2, "chrono", T, seed=0)
    with pytest.raises(ValueError, match="only swap involving either"):
        interventions.swap_blocks(cifg, "forget", "output")
    swapped = interventions.swap_blocks(cifg, "forget", "input")
    swapped.check_constraints()
    g, before = gates.extract(swapped, _x()), gates.extract(cifg, _x())
    np.testing.assert_allclose(g["forget"], 1 - g["input"], atol=1e-6)
    np.testing.assert_allclose(g["forget"][:, 0], before["input"][:, 0], atol=1e-6)
    swapped(_x()).sum().backward()  # the copy kept its gradient hooks
    assert not swapped.rnn.weight_ih_l0.grad[H:2 * H].any()


def test_forward_conditions_reduce_keeps_only_the_reductions():
    model, x = _model("lstm"), _x()
    conditions = [None, {"forget": (_at(3), 1.0)}, {"output": (_at(5), 0.0)}]
    full = interventions.forward_conditions(model, x, conditions, batch_size=2 * N)
    reduced = interventions.forward_conditions(model, x, conditions, batch_size=2 * N,
                                               reduce=lambda out: out["outputs"].sum())
    assert reduced == [part["outputs"].sum() for part in full]


@pytest.mark.parametrize("arch,gate", [("lstm", "forget"), ("gru", "update"),
                                       ("lstm_cifg", "input")])
def test_forward_unit_groups_equals_forward_conditions(arch, gate):
    model, x = _model(arch), _x(n=5)
    rng = np.random.default_rng(0)
    where = rng.random((5, T)) < 0.3
    groups = rng.random((7, H)) < 0.4
    grouped = interventions.forward_unit_groups(model, x, gate, where, groups, 1.0,
                                                batch_size=15)
    separate = interventions.forward_conditions(
        model, x, [{gate: (where[:, :, None] & g, 1.0)} for g in groups], batch_size=15)
    assert len(grouped) == len(separate) == 7
    for a, b in zip(grouped, separate, strict=True):
        for name in b:
            np.testing.assert_allclose(a[name], b[name], atol=1e-6)
    assert np.abs(grouped[0]["outputs"] - grouped[1]["outputs"]).max() > 1e-4
