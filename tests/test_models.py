import copy
import math

import numpy as np
import pytest
import torch

from gateroles import gates
from gateroles.models import (
    ARCHITECTURES,
    FIXED_GATE_BIAS,
    INIT_ARMS,
    SPECS,
    build_model,
    checkpoint_payload,
    effective_bias,
    gate_rows,
    held_bias,
    init_applies,
    models_from_payload,
)
from gateroles.tasks import make_splits
from gateroles.training import TrainSettings, train

H = 8
ROWS = {g: gate_rows("lstm", g, H) for g in ("input", "forget", "cell_candidate", "output")}
REMOVED = {"lstm_nfg": "forget", "lstm_nig": "input", "lstm_nog": "output"}
WEIGHTS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


def test_same_seed_same_weights_and_default_arm_is_pytorch():
    a = build_model("lstm", 5, 8, 3, "default", 100, seed=3)
    b = build_model("lstm", 5, 8, 3, "default", 100, seed=3)
    for (name, p), q in zip(a.named_parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q), name
    bound = 1 / math.sqrt(8)
    assert effective_bias(a, "forget").abs().max() <= 2 * bound


@pytest.mark.parametrize("arch,gate", [("lstm", "forget"), ("gru", "update"),
                                       ("lstm_nig", "forget"), ("lstm_nog", "forget"),
                                       ("lstm_cifg", "forget")])
def test_forget_bias_1_sets_the_sum_of_both_biases(arch, gate):
    model = build_model(arch, 5, 8, 3, "forget_bias_1", 100, seed=0)
    torch.testing.assert_close(effective_bias(model, gate), torch.ones(8))


@pytest.mark.parametrize("arch", ["lstm", "lstm_nog", "lstm_cifg"])
def test_chrono_forget_bias_range_and_input_is_its_negative(arch):
    model = build_model(arch, 5, 64, 3, "chrono", 100, seed=0)
    b_f = effective_bias(model, "forget")
    assert b_f.min() >= 0 and b_f.max() <= math.log(99)
    torch.testing.assert_close(effective_bias(model, "input"), -b_f)
    if arch == "lstm_cifg":  # the same draw as the plain LSTM's chrono
        torch.testing.assert_close(b_f, effective_bias(
            build_model("lstm", 5, 64, 3, "chrono", 100, seed=0), "forget"))


def test_unknown_arm_and_arch_are_named():
    with pytest.raises(ValueError, match="allowed: default, forget_bias_1, chrono"):
        build_model("lstm", 5, 8, 3, "xavier", 100, seed=0)
    with pytest.raises(ValueError, match="allowed: lstm, gru, lstm_nfg, lstm_nig, lstm_nog, "
                                         "lstm_cifg, rnn, lstm_ffg, gru_fug"):
        build_model("transformer", 5, 8, 3, "default", 100, seed=0)


def test_specs_name_gates_states_and_sigmoids():
    assert ARCHITECTURES == ("lstm", "gru", "lstm_nfg", "lstm_nig", "lstm_nog", "lstm_cifg",
                             "rnn", "lstm_ffg", "gru_fug")
    assert SPECS["lstm"].outputs == ("input", "forget", "cell_candidate", "output", "cell",
                                     "hidden")
    assert SPECS["lstm_nfg"].gates == ("input", "cell_candidate", "output")
    assert SPECS["lstm_nig"].sigmoid_gates == ("forget", "output")
    assert SPECS["lstm_nog"].gates == ("input", "forget", "cell_candidate")
    assert SPECS["lstm_cifg"].gates == SPECS["lstm"].gates and SPECS["lstm_cifg"].coupled
    assert SPECS["gru"].states == ("hidden",) and SPECS["rnn"].gates == ()
    # a fixed gate is in use (constant): it stays among the gates, and no init arm sets it
    assert SPECS["lstm_ffg"].gates == SPECS["lstm"].gates and SPECS["lstm_ffg"].keep_gate is None
    assert SPECS["gru_fug"].held == {"update": 0.5} and SPECS["lstm_nfg"].held == {"forget": 1.0}


def test_which_init_arms_apply():
    table = {a: tuple(i for i in INIT_ARMS if init_applies(a, i)) for a in ARCHITECTURES}
    shared = ("default", "forget_bias_1", "chrono")  # swap_forget_input: plain lstm only
    assert table == {"lstm": INIT_ARMS, "gru": shared, "lstm_nog": shared,
                     "lstm_cifg": shared, "lstm_nig": ("default", "forget_bias_1"),
                     "lstm_nfg": ("default",), "rnn": ("default",),
                     "lstm_ffg": ("default",), "gru_fug": ("default",)}
    for arch, arm in (("lstm_nfg", "forget_bias_1"), ("lstm_nig", "chrono"), ("rnn", "chrono")):
        with pytest.raises(ValueError, match="does not apply"):
            build_model(arch, 5, 8, 3, arm, 100, seed=0)


def _observed_gate(position: str, bias: float, grad: bool) -> torch.Tensor:
    """One step of a fused nn.LSTM (64 x 32 units) in which the gate at `position` (logit =
    `bias`) is what the module returns, exactly: input: c = i * g with g = tanh(30) = 1;
    forget: c = f * c0 with c0 = 1 and g = 0; output: h = o * tanh(c) with c = 100."""
    torch.manual_seed(0)
    module = torch.nn.LSTM(5, 32, batch_first=True)
    rows = {g: gate_rows("lstm", g, 32) for g in ("input", "forget", "cell_candidate", "output")}
    c0 = torch.zeros(1, 64, 32)
    with torch.no_grad():
        for p in module.parameters():
            p.zero_()
        module.bias_ih_l0[rows[position]] = bias
        if position == "input":
            module.bias_ih_l0[rows["cell_candidate"]] = 30.0
        elif position == "forget":
            c0 += 1
        else:
            module.bias_ih_l0[rows["forget"]] = 30.0
            c0 += 100
    x = torch.randn(64, 1, 5, requires_grad=grad)
    with torch.set_grad_enabled(grad):
        _, (h, c) = module(x, (torch.zeros(1, 64, 32), c0))
    return (h if position == "output" else c).detach()


@pytest.mark.parametrize("position", ["input", "forget", "output"])
@pytest.mark.parametrize("grad", [False, True])
def test_fixed_gate_bias_gives_exactly_one_through_the_fused_kernel(position, grad):
    # measured bound: exactly 1.0 from a logit of 17.33 (25 ln 2) in the fused kernel, from
    # 16.64 (24 ln 2) in torch.sigmoid; FIXED_GATE_BIAS keeps a margin above both.
    for bias in (18.0, FIXED_GATE_BIAS):
        assert (_observed_gate(position, bias, grad) == 1.0).all()
    assert (torch.sigmoid(torch.tensor([18.0, FIXED_GATE_BIAS])) == 1.0).all()
    assert not (_observed_gate(position, 10.0, grad) == 1.0).all()  # the probe can see < 1


def _explicit_lstm(model, x, fixed=None, coupled=False):
    """Textbook LSTM with a gate set to the literal 1.0, or f = 1 - i (autograd-friendly)."""
    rnn = model.rnn
    w_ih, w_hh, b = rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0 + rnn.bias_hh_l0
    n, hidden = x.shape[0], rnn.hidden_size
    h = c = torch.zeros(n, hidden)
    out = []
    for t in range(x.shape[1]):
        z = x[:, t] @ w_ih.T + h @ w_hh.T + b
        g = {name: torch.sigmoid(z[:, rows]) for name, rows in gate_rows_of(hidden).items()}
        g["cell_candidate"] = torch.tanh(z[:, gate_rows("lstm", "cell_candidate", hidden)])
        if fixed:
            g[fixed] = torch.ones_like(g[fixed])
        if coupled:
            g["forget"] = 1 - g["input"]
        c = g["forget"] * c + g["input"] * g["cell_candidate"]
        h = g["output"] * torch.tanh(c)
        out.append(h)
    return torch.stack(out, dim=1)


def gate_rows_of(hidden):
    return {g: gate_rows("lstm", g, hidden) for g in ("input", "forget", "output")}


@pytest.mark.parametrize("arch", ["lstm_nfg", "lstm_nig", "lstm_nog"])
def test_removed_gate_rows_never_move_under_adam_with_clipping(arch):
    model = build_model(arch, 5, H, 3, "default", 20, seed=1)
    gate = REMOVED[arch]
    start = {k: getattr(model.rnn, k)[ROWS[gate]].clone() for k in WEIGHTS}
    assert torch.equal(start["bias_ih_l0"], torch.full((H,), FIXED_GATE_BIAS))
    optimiser = torch.optim.Adam(model.parameters(), lr=0.05)
    x = torch.randn(16, 20, 5)
    before = model.rnn.weight_hh_l0.clone()
    for _ in range(15):
        loss = model(x).pow(2).mean() + model(x)[:, -1, 0].sum()
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimiser.step()
        for k in WEIGHTS:  # unchanged at every step: the gate's logit stays the bias, so 1.0
            assert torch.equal(getattr(model.rnn, k)[ROWS[gate]], start[k]), k
    assert not torch.equal(model.rnn.weight_hh_l0, before)  # the other rows did learn
    with torch.no_grad():
        fused, _ = model.rnn(x)
        assert (fused - _explicit_lstm(model, x, fixed=gate)).abs().max() <= 1e-5


@pytest.mark.parametrize("arch, gate", [("lstm_ffg", "forget"), ("gru_fug", "update")])
def test_a_fixed_gate_stays_at_one_half_through_training_and_extraction(arch, gate):
    """The negative controls' gate is exactly 0.5 at every step after Adam with clipping,
    while the other rows learn; the extracted gates reproduce the module."""
    from gateroles.gates import extract

    model = build_model(arch, 5, H, 3, "default", 20, seed=3)
    rows = gate_rows(arch, gate, H)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.05)
    x = torch.randn(16, 20, 5)
    before = model.rnn.weight_hh_l0.clone()
    for _ in range(10):
        loss = model(x).pow(2).mean()
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimiser.step()
    assert not torch.equal(model.rnn.weight_hh_l0, before)
    for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
        assert not getattr(model.rnn, name)[rows].any(), name
    model.check_constraints()
    acts = extract(model, x.numpy())
    assert np.all(acts[gate] == 0.5)
    with torch.no_grad():
        assert np.abs(model.rnn(x)[0].numpy() - acts["hidden"]).max() <= 1e-5
    assert held_bias(1.0) == FIXED_GATE_BIAS and held_bias(0.5) == 0.0
    with pytest.raises(ValueError):
        held_bias(0.0)


def test_coupled_variant_matches_an_explicit_cifg_recurrence_and_its_gradient():
    torch.manual_seed(0)
    model = build_model("lstm_cifg", 5, H, 3, "default", 20, seed=2)
    x = torch.randn(6, 15, 5)
    fused, _ = model.rnn(x)
    explicit = _explicit_lstm(model, x, coupled=True)
    assert (fused - explicit).abs().max() <= 1e-5
    # the hooks' gradient (forget rows folded into input rows) is the gradient of the explicit
    # recurrence, in which only the input rows exist
    weight = torch.randn(H)
    (fused @ weight).sum().backward()
    fused_grads = {k: getattr(model.rnn, k).grad.clone() for k in WEIGHTS}
    model.zero_grad()
    (explicit @ weight).sum().backward()  # f = 1 - i: the forget rows are not used at all
    for k in WEIGHTS:
        grad, reference = fused_grads[k], getattr(model.rnn, k).grad
        assert torch.equal(grad[ROWS["forget"]], torch.zeros_like(grad[ROWS["forget"]]))
        torch.testing.assert_close(grad[ROWS["input"]], reference[ROWS["input"]],
                                   atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(grad[ROWS["output"]], reference[ROWS["output"]],
                                   atol=1e-5, rtol=1e-4)


@pytest.fixture(scope="module")
def splits():
    return make_splits("count_reset", {"train": 128, "validation": 32, "test": 32}, 20, seed=0)


@pytest.mark.parametrize("arch", ["lstm_nfg", "lstm_nig", "lstm_nog", "lstm_cifg", "rnn"])
def test_training_trains_every_variant_and_keeps_its_invariants(arch, splits):
    init = "chrono" if arch == "lstm_cifg" else "default"
    settings = TrainSettings(hidden_size=H, batch_size=16, steps=30, eval_every=10,
                             checkpoints=(0, 10), solved_threshold=1.01)
    result = train(splits, arch, init, 0, settings, progress=open("/dev/null", "w"))
    first, last = result.checkpoints[0], result.checkpoints[30]
    assert not torch.equal(first["rnn.weight_hh_l0"], last["rnn.weight_hh_l0"])
    for k in WEIGHTS:
        if arch in REMOVED:
            assert torch.equal(first[f"rnn.{k}"][ROWS[REMOVED[arch]]],
                               last[f"rnn.{k}"][ROWS[REMOVED[arch]]])
        if arch == "lstm_cifg":  # the checkpoint holds the tie
            assert torch.equal(last[f"rnn.{k}"][ROWS["forget"]], -last[f"rnn.{k}"][ROWS["input"]])
    meta = {"arch": arch, "input_size": splits["train"].input_size, "hidden_size": H,
            "n_outputs": splits["train"].n_outputs}
    models = models_from_payload(checkpoint_payload(meta, result.checkpoints))
    x = torch.as_tensor(splits["test"].inputs)
    with torch.no_grad():
        np.testing.assert_allclose(gates.extract(models[30], x)["hidden"],
                                   models[30].rnn(x)[0].numpy(), atol=1e-5)
        torch.testing.assert_close(models[30](x), result.model(x))


def test_payload_rebuilds_multilayer_models():
    model = build_model("lstm_cifg", 3, 5, 2, "default", 10, seed=0, num_layers=2)
    meta = {"arch": "lstm_cifg", "input_size": 3, "hidden_size": 5, "n_outputs": 2,
            "num_layers": 2}
    rebuilt = models_from_payload(checkpoint_payload(meta, {0: model.state_dict()}))[0]
    x = torch.randn(2, 4, 3)
    torch.testing.assert_close(rebuilt(x), model(x))


def test_copies_keep_the_gradient_hooks():
    model = copy.deepcopy(build_model("lstm_nog", 3, H, 2, "default", 10, seed=0))
    model(torch.randn(4, 6, 3)).sum().backward()
    assert not model.rnn.weight_ih_l0.grad[ROWS["output"]].any()
    assert model.rnn.weight_ih_l0.grad[ROWS["input"]].any()


def test_variants_share_the_plain_lstm_initial_weights():
    plain = build_model("lstm", 5, H, 3, "default", 20, seed=4)
    for arch, gate in REMOVED.items():
        variant = build_model(arch, 5, H, 3, "default", 20, seed=4)
        kept = [r for g, r in ROWS.items() if g != gate]
        for k in WEIGHTS:
            for rows in kept:
                assert torch.equal(getattr(variant.rnn, k)[rows], getattr(plain.rnn, k)[rows])


def test_the_specs_import_without_torch():
    import subprocess
    import sys

    code = "import sys, gateroles.architectures; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
