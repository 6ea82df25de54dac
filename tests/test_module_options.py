"""Every option of torch's recurrent modules in `gates.extract` and `interventions.forward`:
the recomputed hidden states equal the module's own output (1e-5) in every combination."""

import itertools

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from gateroles import gates, interventions
from gateroles.architectures import BLOCKS

# torch itself warns when it runs an LSTM with projections (no oneDNN kernel for them)
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning")

N, T, F, H, P = 3, 7, 4, 5, 3
LENGTHS = torch.tensor([7, 4, 2])


def _combinations():
    for kind, bf, bi, layers, bias, start, feed in itertools.product(
            ("lstm", "lstm_proj", "gru", "rnn_tanh", "rnn_relu"), (True, False), (False, True),
            (1, 2), (True, False), (False, True), ("dense", "packed", "lengths")):
        yield pytest.param(kind, bf, bi, layers, bias, start, feed,
                           id=f"{kind}-bf{int(bf)}-bi{int(bi)}-L{layers}-bias{int(bias)}-"
                              f"h0{int(start)}-{feed}")


def _module(kind, bf=True, bi=False, layers=1, bias=True, seed=0):
    torch.manual_seed(seed)
    options = dict(num_layers=layers, batch_first=bf, bidirectional=bi, bias=bias)
    if kind.startswith("lstm"):
        return nn.LSTM(F, H, proj_size=P if kind == "lstm_proj" else 0, **options).eval()
    if kind == "gru":
        return nn.GRU(F, H, **options).eval()
    return nn.RNN(F, H, nonlinearity=kind.split("_")[1], **options).eval()


def _start_state(module, n=N, seed=1):
    g = torch.Generator().manual_seed(seed)
    d_l = (2 if module.bidirectional else 1) * module.num_layers
    h0 = torch.randn(d_l, n, module.proj_size or H, generator=g)
    return (h0, torch.randn(d_l, n, H, generator=g)) if isinstance(module, nn.LSTM) else h0


def _inputs(bf, seed=2):
    x = torch.randn(N, T, F, generator=torch.Generator().manual_seed(seed)) * 2
    return x if bf else x.transpose(0, 1).contiguous()


def _feed(module, x, feed):
    """(what extract gets, its lengths=, what the module gets, a function unpacking its output)."""
    bf = module.batch_first
    if feed == "dense":
        return x, None, x, lambda out: out
    packed = pack_padded_sequence(x, LENGTHS, batch_first=bf, enforce_sorted=False)
    unpack = lambda out: pad_packed_sequence(out, batch_first=bf, total_length=T)[0]  # noqa: E731
    return (packed, None, packed, unpack) if feed == "packed" else (x, LENGTHS, packed, unpack)


@pytest.mark.parametrize("kind,bf,bi,layers,bias,start,feed", list(_combinations()))
def test_hidden_equals_the_modules_output(kind, bf, bi, layers, bias, start, feed):
    module = _module(kind, bf, bi, layers, bias)
    state = _start_state(module) if start else None
    given, lengths, to_module, unpack = _feed(module, _inputs(bf), feed)
    with torch.no_grad():
        out, final = module(to_module, state)
    out = unpack(out).numpy()
    got = gates.extract(module, given, h0=state, lengths=lengths)
    assert got["hidden"].shape == out.shape
    assert np.abs(got["hidden"] - out).max() <= 1e-5
    # every layer and direction: its final state sits at each sequence's last step (forward)
    # or at step 0 (reverse), and padded steps are reported as 0
    h_n = (final[0] if kind.startswith("lstm") else final).numpy()
    last = (LENGTHS if feed != "dense" else torch.full((N,), T)).numpy() - 1
    width = module.proj_size or H
    for k in range(layers):
        layer = gates.extract(module, given, layer=k, h0=state, lengths=lengths)
        hidden = layer["hidden"] if bf else layer["hidden"].transpose(1, 0, 2)
        assert np.abs(hidden[np.arange(N), last, :width] - h_n[k * (1 + bi)]).max() <= 1e-5
        if bi:
            assert np.abs(hidden[:, 0, width:] - h_n[2 * k + 1]).max() <= 1e-5
        if kind.startswith("lstm"):
            cell = layer["cell"] if bf else layer["cell"].transpose(1, 0, 2)
            assert cell.shape[-1] == (1 + bi) * H and layer["forget"].shape[-1] == (1 + bi) * H
            assert np.abs(cell[np.arange(N), last, :H] - final[1][k * (1 + bi)].numpy()
                          ).max() <= 1e-5
        if feed != "dense":
            for name, value in layer.items():
                value = value if bf else value.transpose(1, 0, 2)
                assert not value[1, LENGTHS[1]:].any() and not value[2, LENGTHS[2]:].any(), name


@pytest.mark.parametrize("kind", ["lstm", "lstm_proj", "gru", "rnn_tanh"])
def test_unbatched_inputs_give_unbatched_arrays(kind):
    module = _module(kind, bi=True, layers=2)
    x = _inputs(True)[0]
    h0 = _start_state(module, n=1)
    h0 = tuple(s[:, 0] for s in h0) if isinstance(h0, tuple) else h0[:, 0]
    with torch.no_grad():
        out, _ = module(x, h0)
    got = gates.extract(module, x, h0=h0)
    assert got["hidden"].shape == out.shape == (T, 2 * (module.proj_size or H))
    assert np.abs(got["hidden"] - out.numpy()).max() <= 1e-5


@pytest.mark.parametrize("cls", [nn.LSTMCell, nn.GRUCell, nn.RNNCell])
@pytest.mark.parametrize("bias,start", [(True, False), (True, True), (False, True)])
def test_cells_run_over_the_sequence_as_one_layer(cls, bias, start):
    torch.manual_seed(3)
    cell = cls(F, H, bias=bias)
    x = _inputs(True)
    h0 = torch.randn(N, H)
    state = ((h0, torch.randn(N, H)) if cls is nn.LSTMCell else h0) if start else None
    hs, cs, carried = [], [], state
    with torch.no_grad():
        for t in range(T):
            carried = cell(x[:, t], carried)
            hs.append(carried[0] if cls is nn.LSTMCell else carried)
            if cls is nn.LSTMCell:
                cs.append(carried[1])
    got = gates.extract(cell, x, h0=state)
    assert np.abs(got["hidden"] - torch.stack(hs, 1).numpy()).max() <= 1e-5
    if cls is nn.LSTMCell:
        assert np.abs(got["cell"] - torch.stack(cs, 1).numpy()).max() <= 1e-5
    assert gates.architecture(cell) == {nn.LSTMCell: "lstm", nn.GRUCell: "gru",
                                        nn.RNNCell: "rnn"}[cls]


@pytest.mark.parametrize("kind,bf,bi,feed", [
    ("lstm", False, True, "lengths"), ("lstm_proj", True, True, "dense"),
    ("gru", False, True, "lengths"), ("gru", True, False, "dense"),
    ("rnn_tanh", True, True, "lengths")])
def test_the_differentiable_twin_equals_the_fast_recurrence_with_clamps(kind, bf, bi, feed):
    module = _module(kind, bf, bi, layers=2)
    state = _start_state(module)
    given, lengths, _, _ = _feed(module, _inputs(bf), feed)
    arch = gates.architecture(module)
    rng = np.random.default_rng(0)
    shape = (N, T, (1 + bi) * H) if bf else (T, N, (1 + bi) * H)
    clamp = {g: (rng.random(shape) < 0.3, float(k) / 3)
             for k, g in enumerate(gates.spec(arch).gates)}
    for layer in (0, 1):
        fast = interventions.forward(module, given, clamp, layer=layer, h0=state,
                                     lengths=lengths)
        twin = interventions.forward(module, given, clamp, layer=layer, h0=state,
                                     lengths=lengths, differentiable=True)
        assert fast.keys() == twin.keys()
        for name, value in fast.items():
            np.testing.assert_allclose(value, twin[name].detach().numpy(), atol=1e-5,
                                       err_msg=name)


def _saturate(module, gate, value, direction="", layer=0):
    """A copy of `module` whose `gate` rows (layer `layer`, one direction) are 0 with a bias
    of +-200, where the sigmoid is exactly 1 or 0: the weight edit equivalent to a clamp."""
    edited = type(module)(module.input_size, module.hidden_size, num_layers=module.num_layers,
                          batch_first=module.batch_first, bidirectional=module.bidirectional)
    edited.load_state_dict(module.state_dict())
    blocks = BLOCKS[gates.architecture(module)]
    rows = slice(blocks.index(gate) * H, (blocks.index(gate) + 1) * H)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            param = getattr(edited, f"{name}_l{layer}{direction}")
            param[rows] = 0.0
        getattr(edited, f"bias_ih_l{layer}{direction}")[rows] = 200.0 if value == 1 else -200.0
    return edited.eval()


@pytest.mark.parametrize("cls,gate,value", [(nn.LSTM, "forget", 1.0), (nn.LSTM, "input", 0.0),
                                            (nn.GRU, "update", 0.0), (nn.GRU, "reset", 1.0)])
@pytest.mark.parametrize("direction", ["", "_reverse"])
def test_a_clamp_in_layer_0_reaches_the_output_as_a_weight_edit_would(cls, gate, value,
                                                                      direction):
    torch.manual_seed(4)
    module = cls(F, H, num_layers=2, batch_first=False, bidirectional=True).eval()
    x = _inputs(False)
    where = np.zeros((1, 1, 2 * H), dtype=bool)
    where[..., (H if direction else 0):(2 * H if direction else H)] = True  # one direction
    out = interventions.forward(module, x, {gate: (where, value)}, layer=0)
    with torch.no_grad():
        expected = _saturate(module, gate, value, direction)(x)[0].numpy()
        plain = module(x)[0].numpy()
    assert np.abs(out["outputs"] - expected).max() <= 1e-5
    assert np.abs(out["outputs"] - plain).max() > 1e-2  # the clamp did change the output


def test_a_forget_clamp_erases_memory_in_a_time_first_bidirectional_module():
    """One unit per direction: i = 1 at stores, f = o = 1, g = tanh(value): c holds the stored
    value; clamping the forward direction's forget gate to 0 at step 5 erases it from there
    on (in the forward half only), exactly as the hand computation says."""
    module = nn.LSTM(2, 1, bidirectional=True)
    with torch.no_grad():
        for p in module.parameters():
            p.zero_()
        for d in ("", "_reverse"):
            getattr(module, f"weight_ih_l0{d}")[0, 1] = 40.0  # input gate <- store flag
            getattr(module, f"bias_ih_l0{d}")[0] = -20.0
            getattr(module, f"bias_ih_l0{d}")[1] = 200.0  # forget = 1
            getattr(module, f"weight_ih_l0{d}")[2, 0] = 1.0  # g = tanh(value)
            getattr(module, f"bias_ih_l0{d}")[3] = 200.0  # output = 1
    x = torch.zeros(T, 1, 2)
    x[2] = torch.tensor([0.8, 1.0])  # store 0.8 at step 2
    where = np.zeros((T, 1, 2), dtype=bool)
    where[5, 0, 0] = True  # forward direction, step 5
    out = interventions.forward(module, x, {"forget": (where, 0.0)})
    stored = np.tanh(np.tanh(0.8))
    np.testing.assert_allclose(out["hidden"][2:5, 0, 0], stored, atol=1e-6)
    assert np.abs(out["hidden"][5:, 0, 0]).max() < 1e-6  # forgotten from the clamp on
    np.testing.assert_allclose(out["hidden"][:3, 0, 1], stored, atol=1e-6)  # reverse untouched


@pytest.mark.parametrize("bf,bi", [(False, True), (True, True), (False, False)])
def test_stacked_conditions_with_every_option_equal_separate_calls(bf, bi):
    module = _module("lstm", bf, bi, layers=2)
    state = _start_state(module)
    x = _inputs(bf)
    shape = (N, T, 1) if bf else (T, N, 1)
    rng = np.random.default_rng(5)
    conditions = [None, {"forget": (rng.random(shape) < 0.3, 0.0)},
                  {"input": (rng.random((1, 1, (1 + bi) * H)) < 0.5, 1.0)}]
    options = dict(h0=state, lengths=LENGTHS, layer=0)
    together = interventions.forward_conditions(module, x, conditions, **options)
    for k, clamp in enumerate(conditions):
        alone = interventions.forward(module, x, clamp, **options)
        for name, value in alone.items():
            np.testing.assert_allclose(together[k][name], value, atol=1e-6, err_msg=name)
    groups = rng.random((3, (1 + bi) * H)) < 0.5
    where = rng.random((N, T)) < 0.4
    grouped = interventions.forward_unit_groups(module, x, "forget", where, groups, 1.0,
                                                **options)
    for g, result in zip(groups, grouped, strict=True):
        mask = where[:, :, None] & g
        alone = interventions.forward(module, x, {"forget": (mask if bf else
                                                             mask.transpose(1, 0, 2), 1.0)},
                                      **options)
        np.testing.assert_allclose(result["outputs"], alone["outputs"], atol=1e-6)


def test_swap_blocks_reaches_every_direction_and_cells():
    module = nn.GRU(F, H, bidirectional=True)
    swapped = interventions.swap_blocks(module, "reset", "update")
    for name in ("weight_ih_l0", "weight_hh_l0_reverse", "bias_hh_l0_reverse"):
        np.testing.assert_array_equal(getattr(swapped, name)[:H].detach(),
                                      getattr(module, name)[H:2 * H].detach())
    cell = nn.LSTMCell(F, H)
    swapped = interventions.swap_blocks(cell, "forget", "input")
    np.testing.assert_array_equal(swapped.weight_hh[:H].detach(), cell.weight_hh[H:2 * H].detach())


# ------------------------------------------------------------------ errors


def test_unsupported_modules_name_what_was_given_and_what_is_supported():
    for module in (nn.Linear(F, H), nn.TransformerEncoderLayer(F, 2)):
        with pytest.raises(TypeError, match=rf"from a {type(module).__name__}: expected nn.LSTM, "
                                            r"nn.GRU, nn.RNN \(any batch_first"):
            gates.extract(module, torch.zeros(N, T, F))
    holder = nn.Module()
    holder.rnn = nn.Linear(F, H)
    with pytest.raises(TypeError, match="Module \\(its .rnn is a Linear\\)"):
        gates.extract(holder, torch.zeros(N, T, F))
    with pytest.raises(TypeError, match="float64 parameters; gate extraction supports float32"):
        gates.extract(nn.GRU(F, H).double(), torch.zeros(T, N, F))
    with pytest.raises(ValueError, match="dropout=0.5 .* in training mode.*call .eval"):
        gates.extract(nn.LSTM(F, H, num_layers=2, dropout=0.5), torch.zeros(T, N, F))


@pytest.mark.parametrize("call,error,message", [
    (lambda m: gates.extract(m, torch.zeros(N, T, F + 1)), ValueError,
     r"inputs must be \[N, T, 4\] \(batch_first\) or unbatched \[T, 4\], got \(3, 7, 5\)"),
    (lambda m: gates.extract(m, torch.zeros(2, N, T, F)), ValueError, r"got \(2, 3, 7, 4\)"),
    (lambda m: gates.extract(m, torch.zeros(N, T, dtype=torch.long)), ValueError,
     r"got \(3, 7\) of torch.int64 \(token ids\? embed them first\)"),
    (lambda m: gates.extract(m, torch.zeros(N, T, F), h0=torch.zeros(1, N, H)), TypeError,
     r"LSTM's start state is the tuple \(h0, c0\)"),
    (lambda m: gates.extract(m, torch.zeros(N, T, F), h0=(torch.zeros(1, N, H),) * 2 + (1,)),
     TypeError, r"tuple \(h0, c0\).*got tuple"),
    (lambda m: gates.extract(m, torch.zeros(N, T, F), h0=(torch.zeros(N, H),) * 2),
     ValueError, r"h0 must be \[1, 3, 5\] for this LSTM and input, got \[3, 5\]"),
    (lambda m: gates.extract(m, torch.zeros(N, T, F), lengths=[7, 8, 1]), ValueError,
     r"lengths must be 3 integers in 1..7"),
    (lambda m: gates.extract(m, torch.zeros(N, T, F), lengths=[7.0, 2.0, 1.0]), TypeError,
     "lengths must be integers"),
    (lambda m: gates.extract(m, torch.zeros(T, F), lengths=[7]), ValueError,
     "lengths= needs batched inputs"),
    (lambda m: gates.extract(m, pack_padded_sequence(torch.zeros(N, T, F), LENGTHS, True, False),
                             lengths=LENGTHS), ValueError, "either a PackedSequence or lengths"),
    (lambda m: gates.extract(m, torch.zeros(N, T, F), layer=2), ValueError,
     r"layer=2: the LSTM has 1 layer\(s\): 0..0"),
    (lambda m: interventions.forward(m, torch.zeros(N, T, F), {"update": (True, 0.0)}),
     ValueError, "the gates of lstm are input, forget, cell_candidate, output"),
    (lambda m: interventions.forward(m, torch.zeros(N, T, F),
                                     {"forget": (np.ones((N, T, 2 * H), bool), 0.0)}),
     ValueError, r"must broadcast to \(3, 7, 5\)"),
    (lambda m: interventions.forward_conditions(m, torch.zeros(T, F), [None]), ValueError,
     "stacked conditions need batched inputs"),
])
def test_bad_calls_say_what_was_given_and_what_is_expected(call, error, message):
    with pytest.raises(error, match=message):
        call(nn.LSTM(F, H, batch_first=True))


def test_a_gru_start_state_is_one_tensor_and_a_cell_takes_its_own_form():
    with pytest.raises(TypeError, match="GRU's start state is one tensor h0"):
        gates.extract(nn.GRU(F, H), torch.zeros(T, N, F), h0=(torch.zeros(1, N, H),) * 2)
    with pytest.raises(ValueError, match=r"h0 must be \[3, 5\] for this GRUCell"):
        gates.extract(nn.GRUCell(F, H), torch.zeros(N, T, F), h0=torch.zeros(1, N, H))
    with pytest.raises(ValueError, match=r"\[N, T, 4\] \(a cell runs over a sequence"):
        gates.extract(nn.GRUCell(F, H), torch.zeros(N, F, T))
