"""Recomputed gates must reproduce the module's own hidden states: that is what makes them real."""

import numpy as np
import pytest
import torch

from gateroles import gates
from gateroles.models import RecurrentModel


def _reference(module, x):
    with torch.no_grad():
        out, state = module(x)
    return out.numpy(), state


@pytest.mark.parametrize("cls", [torch.nn.LSTM, torch.nn.GRU])
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
    assert set(gates.extract(RecurrentModel("gru", 5, 6, 3), torch.zeros(1, 3, 5))) == set(
        gates.GRU_OUTPUTS)


def test_rejects_wrong_shapes_and_modules():
    with pytest.raises(ValueError, match="inputs must be"):
        gates.extract(torch.nn.LSTM(3, 4, batch_first=True), torch.zeros(2, 5, 4))
    with pytest.raises(ValueError, match="batch_first"):
        gates.extract(torch.nn.LSTM(3, 4), torch.zeros(2, 5, 3))
    with pytest.raises(TypeError):
        gates.extract(torch.nn.Linear(3, 4), torch.zeros(2, 5, 3))


@pytest.mark.parametrize("cls", [torch.nn.LSTM, torch.nn.GRU])
def test_logits_are_optional_and_do_not_change_the_gates(cls):
    torch.manual_seed(1)
    module = cls(4, 8, num_layers=2, batch_first=True)
    x = torch.randn(3, 12, 4)
    plain, with_logits = gates.extract(module, x), gates.extract(module, x, preactivations=True)
    assert set(plain) == set(gates.gate_names(gates.architecture(module)))
    for name, value in plain.items():
        np.testing.assert_array_equal(value, with_logits[name])
