"""One workflow stage for one model, from the validated config to files.

The workflow scripts call these; each reads only the files it is given and writes only its
outputs. Training lives in `gateroles.runs`, apart from the analyses, so that editing an
analysis does not retrain every model. torch and scikit-learn are imported inside the stages
that use them: each is a ~2-3 s import, paid by every job of every stage that imports it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gateroles import events, probes, storage
from gateroles.runs import run_columns, task_splits
from gateroles.tasks import EVENTS


def extract_one(config: dict, task: str, seed: int, *, checkpoints_path: str,
                gates_path: str, performance_path: str) -> None:
    """Gate activations of every checkpoint on a bounded sample of test sequences."""
    import torch

    from gateroles import gates
    from gateroles.models import models_from_payload
    from gateroles.training import TaskTensors, evaluate

    payload = storage.load_torch(checkpoints_path)
    meta = payload["meta"]
    test = task_splits(config, task, seed)["test"]
    sample = slice(0, config["extraction"]["n_sequences"])
    arrays = {"tokens": test.tokens[sample], "mask": test.mask[sample]}
    arrays.update({f"factor__{k}": v[sample] for k, v in test.factors.items()})
    scores = []
    test_tensors = TaskTensors(test, torch.device("cpu"))
    for step, model in models_from_payload(payload).items():
        for name, value in gates.extract(model, test.inputs[sample], preactivations=True).items():
            # Logits go under their own prefix (`load_logits`), so `load_gates` is unchanged.
            # float16 keeps ~3 significant digits up to |logit| 65504: enough for rank-based MI.
            gate = name.removesuffix("_logit")
            key = f"logit{step}__{gate}" if gate != name else f"step{step}__{name}"
            arrays[key] = value.astype(np.float16)
        scores.append({"step": step, **evaluate(model, test_tensors)})
    arrays["steps"] = np.array(sorted(int(s) for s in payload["steps"]))
    storage.write_npz(arrays, gates_path)
    columns = run_columns(task, meta["arch"], meta["init"], seed)
    storage.write_csv(pd.DataFrame(scores).rename(columns={"score": "test_score",
                                                           "loss": "test_loss"})
                      .assign(**columns), performance_path)


def load_gates(path: str) -> tuple[np.ndarray, dict[str, np.ndarray], dict[int, dict]]:
    """(steps, factors, {step: {gate: [N, T, H]}}) from an `extract_one` file."""
    arrays = storage.read_npz(path)
    try:
        steps = [int(s) for s in arrays["steps"]]
        factors = {k.split("__", 1)[1]: v for k, v in arrays.items() if k.startswith("factor__")}
        per_step = {s: {k.split("__", 1)[1]: v for k, v in arrays.items()
                        if k.startswith(f"step{s}__")} for s in steps}
    except (KeyError, ValueError) as exc:
        raise storage.DataFileError(f"{path} is not a gate-activation file: {exc}") from exc
    return np.array(steps), factors, per_step


def load_logits(path: str) -> dict[int, dict[str, np.ndarray]]:
    """{step: {sigmoid gate: logits [N, T, H]}} from an `extract_one` file ({} if absent).

    Reads only the logit members of the archive.
    """
    per_step: dict[int, dict[str, np.ndarray]] = {}
    try:
        with np.load(path, allow_pickle=False) as data:
            for key in data.files:
                if key.startswith("logit") and "__" in key:
                    step, gate = key.removeprefix("logit").split("__", 1)
                    per_step.setdefault(int(step), {})[gate] = data[key]
    except (OSError, ValueError, EOFError, KeyError) as exc:
        raise storage.DataFileError(f"cannot read logits from {path}: {exc}") from exc
    return per_step


def analyse_events_one(config: dict, task: str, arch: str, init: str, seed: int, *,
                       gates_path: str, contrast_path: str, aligned_path: str,
                       saturation_path: str) -> None:
    """Event-triggered averages and saturation of every checkpoint of one model."""
    analysis = config["analysis"]
    steps, factors, per_step = load_gates(gates_path)
    roles = EVENTS[task]
    contrast, aligned, saturation = [], [], []
    for step in steps:
        c, a = events.event_tables(per_step[step], factors, roles, arch, analysis["eta_window"])
        contrast.append(c.assign(step=step))
        aligned.append(a.assign(step=step))
        saturation.append(events.saturation_table(per_step[step], arch,
                                                  analysis["saturation_low"],
                                                  analysis["saturation_high"]).assign(step=step))
    columns = run_columns(task, arch, init, seed)
    final = int(steps.max())
    for frames, path in ((contrast, contrast_path), (aligned, aligned_path),
                         (saturation, saturation_path)):
        table = pd.concat(frames, ignore_index=True).assign(**columns, final_step=final)
        storage.write_csv(table, path)



def probe_one(config: dict, task: str, arch: str, init: str, seed: int, *, gates_path: str,
              probes_path: str) -> None:
    """Linear probes with control tasks, every source x factor x checkpoint of one model (C1).

    Sources: every extracted gate and state (all units) and the input-only window (the raw
    inputs at the last `probes.input_window` steps; independent of the checkpoint, so probed
    once and listed under every step).  The control task's token type is the tuple of the last
    `probes.control_window` input tokens (continuous inputs cut into deciles; see
    `probes.input_types`); at the first and last checkpoints the control with the current token
    alone as the type is also scored (columns `*_token`).  The first `probes.n_sequences`
    extracted sequences are used.
    """
    settings = config["probes"]
    steps, factors, per_step = load_gates(gates_path)
    test = task_splits(config, task, seed)["test"]
    n_seq = min(settings["n_sequences"], len(factors[next(iter(factors))]))
    inputs = test.inputs[:n_seq]
    factors = {k: v[:n_seq] for k, v in factors.items()}
    token_types = probes.input_types(inputs)
    types = probes.window_types(token_types, settings["control_window"])
    kwargs = {"control_types": types, "continuous": test.continuous_factors, "seed": seed}
    # Hewitt & Liang's own control (type = the current token alone), for comparison, at the
    # first and last checkpoints only.
    extra = {"extra_controls": {"token": probes.window_types(token_types, 1)}}
    baseline = probes.probe_sources(
        {"input_window": probes.input_window(inputs, settings["input_window"])}, factors,
        **kwargs, **extra)
    rows = []
    for step in steps:
        sources = {k: v[:n_seq] for k, v in per_step[step].items()}
        ends = step in (steps.min(), steps.max())
        scored = probes.probe_sources(sources, factors, **kwargs, **(extra if ends else {}))
        rows += [{**r, "step": int(step)} for r in scored]
        rows += [{**r, "step": int(step)} for r in baseline]
    table = pd.DataFrame(rows).assign(**run_columns(task, arch, init, seed),
                                      final_step=int(steps.max()),
                                      control_window=settings["control_window"],
                                      n_sequences=n_seq)
    storage.write_csv(table, probes_path)


def information_one(config: dict, task: str, arch: str, init: str, seed: int, *,
                    gates_path: str, gate_mi_path: str, unit_factor_path: str,
                    disentanglement_path: str) -> None:
    """Claim C5 for one model: MI between gates, unit x variable MI and disentanglement
    (MIG, modularity, DCI, SAP) at every checkpoint (`gate_information.information_tables`)."""
    from gateroles import gate_information

    steps, factors, per_step = load_gates(gates_path)
    n_seq = len(next(iter(factors.values())))
    types = probes.input_types(task_splits(config, task, seed)["test"].inputs[:n_seq])
    tables = gate_information.information_tables(
        steps, factors, per_step, load_logits(gates_path), arch, config["information"],
        seed=seed, input_types=types)
    columns = {**run_columns(task, arch, init, seed), "final_step": int(steps.max())}
    for name, path in (("gate_mi", gate_mi_path), ("unit_factor_mi", unit_factor_path),
                       ("disentanglement", disentanglement_path)):
        storage.write_csv(tables[name].assign(**columns), path)
