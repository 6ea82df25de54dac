import math

import pytest
import torch

from gateroles.models import build_model, effective_bias


def test_same_seed_same_weights_and_default_arm_is_pytorch():
    a = build_model("lstm", 5, 8, 3, "default", 100, seed=3)
    b = build_model("lstm", 5, 8, 3, "default", 100, seed=3)
    for (name, p), q in zip(a.named_parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q), name
    bound = 1 / math.sqrt(8)
    assert effective_bias(a, "forget").abs().max() <= 2 * bound


@pytest.mark.parametrize("arch,gate", [("lstm", "forget"), ("gru", "update")])
def test_forget_bias_1_sets_the_sum_of_both_biases(arch, gate):
    model = build_model(arch, 5, 8, 3, "forget_bias_1", 100, seed=0)
    torch.testing.assert_close(effective_bias(model, gate), torch.ones(8))


def test_chrono_forget_bias_range_and_input_is_its_negative():
    model = build_model("lstm", 5, 64, 3, "chrono", 100, seed=0)
    b_f = effective_bias(model, "forget")
    assert b_f.min() >= 0 and b_f.max() <= math.log(99)
    torch.testing.assert_close(effective_bias(model, "input"), -b_f)


def test_unknown_arm_and_arch_are_named():
    with pytest.raises(ValueError, match="allowed: default, forget_bias_1, chrono"):
        build_model("lstm", 5, 8, 3, "xavier", 100, seed=0)
    with pytest.raises(ValueError, match="allowed: lstm, gru"):
        build_model("rnn", 5, 8, 3, "default", 100, seed=0)
