"""On a GPU: training with `device: cuda` and the gate readers on a GPU module (skipped without
CUDA; `benchmarks/check_cuda.py` is the fuller comparison with the CPU at the study's budgets)."""

import numpy as np
import pytest
import torch

from gateroles import gates, interventions
from gateroles.models import build_model
from gateroles.tasks import make_splits
from gateroles.training import TaskTensors, TrainSettings, evaluate, train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
SIZES = {"train": 512, "validation": 128, "test": 128}


def settings(device):
    return TrainSettings(hidden_size=32, batch_size=64, steps=300, eval_every=25,
                         checkpoints=(0, 100, 300), solved_threshold=0.99, device=device)


@pytest.mark.parametrize("arch", ["lstm", "gru", "lstm_cifg", "lstm_nfg"])
def test_cuda_training_starts_where_the_cpu_does_and_learns_as_well(arch):
    splits = make_splits("reset_recall", SIZES, 30, seed=0)
    runs = {d: train(splits, arch, "default", 0, settings(d), progress=open("/dev/null", "w"))
            for d in ("cpu", "cuda")}
    for key, value in runs["cpu"].checkpoints[0].items():
        assert torch.equal(value, runs["cuda"].checkpoints[0][key]), key
    assert all(v.device.type == "cpu" for v in runs["cuda"].checkpoints[300].values())
    scores = {d: evaluate(r.model.cpu(), TaskTensors(splits["test"], torch.device("cpu")))
              for d, r in runs.items()}
    assert abs(scores["cpu"]["score"] - scores["cuda"]["score"]) < 0.02, scores
    runs["cuda"].model.check_constraints()  # a variant's invariants held through CUDA training


@pytest.mark.parametrize("arch", ["lstm", "gru", "lstm_cifg", "rnn"])
def test_gate_readers_on_a_gpu_module_equal_the_cpu(arch):
    model = build_model(arch, 5, 16, 3, "default", 20, 0)
    x = np.random.default_rng(0).normal(size=(8, 20, 5)).astype(np.float32)
    clamp = {} if arch == "rnn" else {
        "forget" if arch != "gru" else "update": (np.ones((1, 20, 1), bool), 0.0)}
    on_cpu = interventions.forward(model, x, clamp, preactivations=True)
    unclamped = gates.extract(model, x)
    model = model.to("cuda")
    on_gpu = interventions.forward(model, x, clamp, preactivations=True)
    assert on_gpu.keys() == on_cpu.keys()
    for key in on_cpu:
        np.testing.assert_allclose(on_gpu[key], on_cpu[key], atol=1e-6, err_msg=key)
    assert next(model.parameters()).device.type == "cuda"  # the caller's module stays put
    for key, value in gates.extract(model, x).items():
        np.testing.assert_allclose(value, unclamped[key], atol=1e-6, err_msg=key)
