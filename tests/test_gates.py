"""Recomputed gates must reproduce the module's own hidden states: that is what makes them real."""

import numpy as np
import pytest
import torch

from gateroles import gates
from gateroles.models import ARCHITECTURES, SPECS, RecurrentModel, build_model


def _reference(module, x):
    with torch.no_grad():
        out, state = module(x)
    return out.numpy(), state


@pytest.mark.parametrize("cls", [torch.nn.LSTM, torch.nn.GRU, torch.nn.RNN])
@pytest.mark.parametrize("input_size,hidden,layers,length",
                         [(3, 1, 1, 5), (5, 17, 1, 40), (10, 32, 1, 100), (4, 64, 2, 30),
                          (6, 16, 3, 20)])
def test_hidden_states_equal_module_output(cls, input_size, hidden, layers, length):
    torch.manual_seed(hidden + layers)
    module = cls(input_size, hidden, num_layers=layers, batch_first=True)
    x = torch.randn(7, length, input_size) * 2
    out, state = _reference(module, x)
    extracted = gates.extract(module, x)
    assert np.abs(extracted["hidden"] - out).max() <= 1e-5
    h_n = state[0] if cls is torch.nn.LSTM else state
    for layer in range(layers):  # every layer's final state, not only the last layer's
        hidden_l = gates.extract(module, x, layer=layer)["hidden"][:, -1]
        assert np.abs(hidden_l - h_n[layer].numpy()).max() <= 1e-5
    if cls is torch.nn.LSTM:
        assert np.abs(extracted["cell"][:, -1] - state[1][-1].numpy()).max() <= 1e-5


def test_relu_rnn_and_biasless_modules():
    torch.manual_seed(0)
    x = torch.randn(5, 20, 3)
    for module in (torch.nn.RNN(3, 8, num_layers=2, nonlinearity="relu", batch_first=True),
                   torch.nn.LSTM(3, 8, bias=False, batch_first=True),
                   torch.nn.GRU(3, 8, bias=False, batch_first=True)):
        out, _ = _reference(module, x)
        assert np.abs(gates.extract(module, x)["hidden"] - out).max() <= 1e-5


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_every_architecture_reproduces_its_module(arch, layers):
    torch.manual_seed(layers)
    model = RecurrentModel(arch, 4, 12, 3, num_layers=layers)
    x = torch.randn(6, 25, 4) * 2
    out, state = _reference(model.rnn, x)
    extracted = gates.extract(model, x, preactivations=True)
    assert np.abs(extracted["hidden"] - out).max() <= 1e-5
    assert set(extracted) == set(SPECS[arch].outputs) | {
        f"{g}_logit" for g in SPECS[arch].sigmoid_gates}
    if "cell" in extracted:
        assert np.abs(extracted["cell"][:, -1] - state[1][-1].numpy()).max() <= 1e-5
    for layer in range(layers):
        h_n = (state[0] if SPECS[arch].cell == "lstm" else state)[layer].numpy()
        assert np.abs(gates.extract(model, x, layer=layer)["hidden"][:, -1] - h_n).max() <= 1e-5


def test_removed_gates_are_absent_and_coupled_forget_is_one_minus_input():
    x = torch.randn(3, 10, 4)
    for arch, missing in (("lstm_nfg", "forget"), ("lstm_nig", "input"), ("lstm_nog", "output")):
        g = gates.extract(RecurrentModel(arch, 4, 6, 2), x, preactivations=True)
        assert missing not in g and f"{missing}_logit" not in g
    g = gates.extract(build_model("lstm_cifg", 4, 6, 2, "chrono", 10, 0), x,
                      preactivations=True)
    np.testing.assert_allclose(g["forget"], 1 - g["input"], atol=1e-6)
    np.testing.assert_array_equal(g["forget_logit"], -g["input_logit"])
    assert set(gates.extract(RecurrentModel("rnn", 4, 6, 2), x)) == {"hidden"}


def test_sigmoid_gates_and_names_come_from_the_specs():
    assert gates.SIGMOID_GATES["lstm"] == ("input", "forget", "output")
    assert gates.SIGMOID_GATES["gru"] == ("reset", "update")
    assert gates.SIGMOID_GATES["lstm_nfg"] == ("input", "output")
    assert gates.SIGMOID_GATES["rnn"] == ()
    assert gates.LSTM_OUTPUTS == gates.gate_names("lstm")
    assert gates.GRU_OUTPUTS == ("reset", "update", "candidate", "hidden")
    assert gates.architecture(torch.nn.RNN(2, 3, batch_first=True)) == "rnn"
    assert gates.architecture(RecurrentModel("lstm_nog", 2, 3, 1)) == "lstm_nog"


def test_lstm_equations_hold_between_extracted_gates():
    module = torch.nn.LSTM(4, 8, batch_first=True)
    g = gates.extract(module, torch.randn(3, 12, 4))
    c_prev = np.concatenate([np.zeros((3, 1, 8)), g["cell"][:, :-1]], axis=1)
    np.testing.assert_allclose(g["cell"], g["forget"] * c_prev + g["input"] * g["cell_candidate"],
                               atol=1e-6)
    np.testing.assert_allclose(g["hidden"], g["output"] * np.tanh(g["cell"]), atol=1e-6)
    for name in ("input", "forget", "output"):
        assert 0 <= g[name].min() and g[name].max() <= 1


def test_gru_keeps_pytorch_update_convention():
    module = torch.nn.GRU(4, 8, batch_first=True)
    g = gates.extract(module, torch.randn(3, 12, 4))
    h_prev = np.concatenate([np.zeros((3, 1, 8)), g["hidden"][:, :-1]], axis=1)
    expected = (1 - g["update"]) * g["candidate"] + g["update"] * h_prev
    np.testing.assert_allclose(g["hidden"], expected, atol=1e-6)


def test_names_and_project_model_and_logits():
    model = RecurrentModel("lstm", 5, 6, 3)
    g = gates.extract(model, np.random.default_rng(0).normal(size=(2, 9, 5)).astype(np.float32),
                      preactivations=True)
    assert set(gates.LSTM_OUTPUTS) <= set(g)
    np.testing.assert_allclose(g["forget"], 1 / (1 + np.exp(-g["forget_logit"])), atol=1e-6)
    g = gates.extract(RecurrentModel("gru", 5, 6, 3), torch.randn(2, 9, 5), preactivations=True)
    np.testing.assert_allclose(g["update"], 1 / (1 + np.exp(-g["update_logit"])), atol=1e-6)
    assert set(gates.extract(RecurrentModel("gru", 5, 6, 3), torch.zeros(1, 3, 5))) == set(
        gates.GRU_OUTPUTS)


def test_rejects_wrong_shapes_and_modules():
    with pytest.raises(ValueError, match="inputs must be"):
        gates.extract(torch.nn.LSTM(3, 4, batch_first=True), torch.zeros(2, 5, 4))
    with pytest.raises(ValueError, match=r"\[T, N, 3\] \(batch_first=False\)"):
        gates.extract(torch.nn.LSTM(3, 4), torch.zeros(2, 5, 4))
    with pytest.raises(TypeError, match="cannot read gates from a Linear: expected nn.LSTM"):
        gates.extract(torch.nn.Linear(3, 4), torch.zeros(2, 5, 3))


def test_the_differentiable_twin_refuses_a_module_off_the_cpu():
    # its gradients must reach the caller's parameters, so it cannot work on a CPU copy
    module = torch.nn.LSTM(3, 4, batch_first=True).to("meta")
    with pytest.raises(ValueError, match="model.cpu"):
        gates.run_differentiable(module, torch.zeros(1, 2, 3))


def test_a_variant_whose_removed_rows_moved_is_an_error():
    model = RecurrentModel("lstm_nfg", 3, 4, 1)
    with torch.no_grad():
        model.rnn.weight_hh_l0[4] = 0.1  # a forget row
    with pytest.raises(RuntimeError, match="removed forget gate"):
        gates.extract(model, torch.zeros(1, 2, 3))


@pytest.mark.parametrize("cls", [torch.nn.LSTM, torch.nn.GRU])
def test_logits_are_optional_and_do_not_change_the_gates(cls):
    torch.manual_seed(1)
    module = cls(4, 8, num_layers=2, batch_first=True)
    x = torch.randn(3, 12, 4)
    plain, with_logits = gates.extract(module, x), gates.extract(module, x, preactivations=True)
    assert set(plain) == set(gates.gate_names(gates.architecture(module)))
    for name, value in plain.items():
        np.testing.assert_array_equal(value, with_logits[name])


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_differentiable_twin_equals_the_fast_recurrence(arch):
    torch.manual_seed(2)
    model = RecurrentModel(arch, 4, 10, 3, num_layers=2)
    x = torch.randn(5, 30, 4) * 2
    fast = gates.run(model, x, layer=0, readout=True)
    twin = gates.run_differentiable(model, x, layer=0, readout=True)
    assert fast.keys() == twin.keys()
    for name in fast:
        assert (fast[name] - twin[name].detach()).abs().max() <= 1e-5, name
    with torch.no_grad():
        assert (twin["outputs"] - model(x)).abs().max() <= 1e-5
