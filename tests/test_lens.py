"""The lens runs a user's whole model with every gate recorded or hooked (`gateroles.lens`)."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from gateroles import gates
from gateroles.lens import Lens, hook_name

N, T, F, H, V = 3, 8, 4, 5, 6


class Tagger(nn.Module):
    """Embedding, a 2-layer bidirectional time-first LSTM over a packed batch, a read-out."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(V, F)
        self.encoder = nn.Module()
        self.encoder.rnn = nn.LSTM(F, H, num_layers=2, bidirectional=True)
        self.out = nn.Linear(2 * H, 2)

    def forward(self, tokens, lengths):
        x = self.embed(tokens).transpose(0, 1)  # [T, N, F]
        packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
        hidden, (h_n, _) = self.encoder.rnn(packed)
        hidden, _ = pad_packed_sequence(hidden, total_length=tokens.shape[1])
        return self.out(hidden), h_n


class Seq2Seq(nn.Module):
    """A GRU encoder whose final state starts a GRUCell decoder, stepped in Python."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(V, F)
        self.encoder = nn.GRU(F, H, batch_first=True)
        self.decoder = nn.GRUCell(F, H)
        self.out = nn.Linear(H, V)

    def forward(self, tokens, steps=4):
        _, h = self.encoder(self.embed(tokens))
        h, token, logits = h[0], torch.zeros(tokens.shape[0], dtype=torch.long), []
        for _ in range(steps):
            h = self.decoder(self.embed(token), h)
            logits.append(self.out(h))
            token = logits[-1].argmax(-1)
        return torch.stack(logits, 1)


def _tokens(seed=0):
    return torch.randint(V, (N, T), generator=torch.Generator().manual_seed(seed))


LENGTHS = torch.tensor([8, 3, 5])


def test_the_cache_holds_every_gate_of_every_layer_and_direction():
    torch.manual_seed(0)
    model = Tagger().eval()
    tokens = _tokens()
    with torch.no_grad():
        expected, h_n = model(tokens, LENGTHS)
    lens = Lens(model)
    assert list(lens.modules) == ["encoder.rnn"]
    assert "encoder.rnn.l1.bwd.forget" in lens.hook_names and len(lens.hook_names) == 24
    (out, h_lens), cache = lens.run_with_cache(tokens, LENGTHS)
    assert torch.allclose(out, expected, atol=1e-5) and torch.allclose(h_lens, h_n, atol=1e-5)
    x = model.embed(tokens).detach().transpose(0, 1)
    for layer in (0, 1):
        own = gates.extract(model.encoder.rnn, x, layer=layer, lengths=LENGTHS)
        for name, value in own.items():  # [T, N, 2H] -> per direction [N, T, H]
            for d, direction in enumerate(("fwd", "bwd")):
                got = cache[f"encoder.rnn.l{layer}.{direction}.{name}"]
                np.testing.assert_allclose(got.numpy(), value[..., d * H:(d + 1) * H]
                                           .transpose(1, 0, 2), atol=1e-6, err_msg=name)
    # the state before each step: the previous step's, and 0 at the start
    cell, before = cache["encoder.rnn.l0.fwd.cell"], cache["encoder.rnn.l0.fwd.cell_previous"]
    assert torch.equal(before[:, 1:3], cell[:, :2]) and not before[:, 0].any()


def test_a_decoder_cell_stepped_in_python_is_recorded_step_by_step():
    torch.manual_seed(1)
    model = Seq2Seq().eval()
    tokens = _tokens(1)
    with torch.no_grad():
        expected = model(tokens, steps=5)
    out, cache = Lens(model).run_with_cache(tokens, steps=5)
    assert torch.allclose(out, expected, atol=1e-5)
    hidden = cache["decoder.l0.fwd.hidden"]
    assert hidden.shape == (N, 5, H) and len(cache.calls("decoder.l0.fwd.update")) == 5
    np.testing.assert_allclose(cache["decoder.l0.fwd.hidden_previous"][:, 0],
                               cache["encoder.l0.fwd.hidden"][:, -1], atol=1e-6)
    assert torch.allclose(model.out(hidden), out, atol=1e-5)


def test_the_state_carried_across_calls_gives_the_same_gates_as_one_call():
    torch.manual_seed(2)
    lstm = nn.LSTM(F, H, batch_first=True)
    x = torch.randn(N, T, F)
    lens = Lens(lstm)  # the model is the LSTM itself: hook names start at the layer
    assert lens.hook_names[0] == "l0.fwd.input"
    with lens.hooks() as cache:
        state = None
        for chunk in x.split(3, dim=1):  # 3 + 3 + 2 steps, the state carried by the caller
            _, state = lstm(chunk, state)
    whole = gates.extract(lstm, x)
    for name, value in whole.items():
        np.testing.assert_allclose(cache[f"l0.fwd.{name}"].numpy(), value, atol=1e-6)


def _saturated_forget(lstm: nn.LSTM, layer: int, suffix: str) -> nn.LSTM:
    edited = nn.LSTM(lstm.input_size, H, num_layers=lstm.num_layers,
                     bidirectional=lstm.bidirectional)
    edited.load_state_dict(lstm.state_dict())
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(edited, f"{name}_l{layer}{suffix}")[H:2 * H] = 0.0
        getattr(edited, f"bias_ih_l{layer}{suffix}")[H:2 * H] = 200.0  # sigmoid exactly 1
    return edited.eval()


@pytest.mark.parametrize("layer,direction", [(0, "fwd"), (0, "bwd"), (1, "bwd")])
def test_a_hook_replacing_a_gate_changes_the_output_as_the_weight_edit_does(layer, direction):
    torch.manual_seed(3)
    model = Tagger().eval()
    tokens = _tokens(3)
    name = hook_name("encoder.rnn", layer, direction, "forget")
    seen = []

    def never_forget(activation, hook):
        seen.append((hook.name, hook.step, hook.positions.clone()))
        return torch.ones_like(activation)

    hooked, _ = Lens(model).run_with_hooks(tokens, LENGTHS, fwd_hooks=[(name, never_forget)])
    clamped, _ = Lens(model).run_with_hooks(tokens, LENGTHS,
                                            clamps={name: (np.ones((1, 1, 1), bool), 1.0)})
    model.encoder.rnn = _saturated_forget(model.encoder.rnn, layer,
                                          "_reverse" if direction == "bwd" else "")
    with torch.no_grad():
        edited, _ = model(tokens, LENGTHS)
        plain, _ = Tagger().eval()(tokens, LENGTHS)
    assert torch.allclose(hooked, edited, atol=1e-5) and torch.allclose(clamped, edited, atol=1e-5)
    assert (hooked - plain).abs().max() > 1e-3
    assert len(seen) == T and all(n == name for n, _, _ in seen)
    if direction == "fwd":
        assert [s for _, s, _ in seen] == list(range(T))
    else:  # the reverse direction starts at each sequence's own last step
        assert seen[0][1] is None and seen[0][2].tolist() == (LENGTHS - 1).tolist()


def test_a_clamp_on_the_decoders_time_axis_and_a_hook_on_the_state():
    torch.manual_seed(4)
    model = Seq2Seq().eval()
    tokens = _tokens(4)
    where = np.zeros((N, 4, 1), dtype=bool)
    where[:, 2] = True  # the third decoder call
    lens = Lens(model, "decoder")
    assert lens.hook_names == [f"decoder.l0.fwd.{g}" for g in gates.GRU_OUTPUTS]
    with lens.hooks(clamps={"decoder.l0.fwd.update": (where, 1.0)}) as cache:
        model(tokens)
    h = cache["decoder.l0.fwd.hidden"]
    assert torch.equal(h[:, 2], h[:, 1]) and (h[:, 3] - h[:, 2]).abs().max() > 1e-4  # kept
    zeroed = lens.run_with_hooks(tokens, fwd_hooks=[(
        "decoder.l0.fwd.hidden", lambda a, hook: torch.zeros_like(a) if hook.step == 1 else None)])
    _, again = lens.run_with_cache(tokens)
    with torch.no_grad():  # from a zero state at step 1 the decoder goes on as from scratch
        token = zeroed[:, 1].argmax(-1)
        h2 = model.decoder(model.embed(token), torch.zeros(N, H))
    assert torch.allclose(model.out(h2), zeroed[:, 2], atol=1e-5)
    assert (again["decoder.l0.fwd.hidden"][:, 1]).abs().min() > 0


def test_errors_name_what_was_given():
    with pytest.raises(ValueError, match="no recurrent module in this Linear"):
        Lens(nn.Linear(3, 4))
    with pytest.raises(ValueError, match="has no submodule 'decoderr'; its recurrent "
                                         "submodules: 'encoder', 'decoder'"):
        Lens(Seq2Seq(), "decoderr")
    with pytest.raises(TypeError, match="cannot read gates from a Embedding"):
        Lens(Seq2Seq(), "embed")
    lens = Lens(Seq2Seq())
    with pytest.raises(ValueError, match="no hook point 'decoder.l0.fwd.forget'; hook points "
                                         "of this model: encoder.l0.fwd.reset"):
        lens.run_with_hooks(_tokens(), fwd_hooks=[("decoder.l0.fwd.forget", print)])
    with pytest.raises(ValueError, match="cannot clamp 'decoder.l0.fwd.hidden': clamps take "
                                         "the gates \\(reset, update, candidate\\)"):
        lens.run_with_hooks(_tokens(), clamps={"decoder.l0.fwd.hidden": (True, 0.0)})
    with pytest.raises(ValueError, match="covers 2 steps; the module ran to step 3"):
        lens.run_with_hooks(_tokens(), clamps={
            "decoder.l0.fwd.update": (np.ones((N, 2, 1), bool), 0.0)})
    with pytest.raises(KeyError, match="no activation 'decoder.l0.fwd.cell'"):
        lens.run_with_cache(_tokens())[1]["decoder.l0.fwd.cell"]


def test_a_hook_on_one_direction_leaves_the_other_untouched():
    torch.manual_seed(5)
    lstm = nn.LSTM(F, H, bidirectional=True, batch_first=True)
    x = torch.randn(N, T, F)
    lens = Lens(lstm)
    _, clean = lens.run_with_cache(x)
    with lens.hooks(fwd_hooks=[("l0.fwd.cell_candidate", lambda a, hook: a.clone())]) as cache:
        lstm(x)
    for name in ("cell_candidate", "cell", "hidden", "forget"):
        assert torch.equal(cache[f"l0.bwd.{name}"], clean[f"l0.bwd.{name}"]), name
        assert torch.allclose(cache[f"l0.fwd.{name}"], clean[f"l0.fwd.{name}"], atol=1e-6)
