"""The role analyses on a user's own trained model and events (docs/own-model.md).

Given a model (any `nn.Module` holding a torch recurrent module or cell), inputs, named boolean
event masks `[N, T]` on the time axis of one recurrent submodule, and behaviour scores (a
function of the model's outputs), `measure.measure` computes, with the model's own forward
run through `gateroles.lens`:

- **event-locked gate dynamics** per unit and over units: each gate's activation at the
  event's steps minus at the quiet steps (valid steps with no event of any kind), per sequence;
- **the matched perturbation matrix** (gate x event x behaviour): each gate's activation at
  the event's steps replaced by its own activation at a matched quiet step of the same
  sequence (an interchange, run inside the recurrence, so it propagates), against the same
  interchange at as many quiet steps; the damage is the behaviour score lost;
- **the attribution of state changes**: LSTM `c_t - c_{t-1} = (f_t - 1) c_{t-1} + i_t g_t`,
  GRU `h_t - h_{t-1} = -(1 - z_t) h_{t-1} + (1 - z_t) n_t`; the erasing term's share of the
  two terms' magnitudes (in [0, 1]) at the event's steps against the quiet steps.

Statistics (`gateroles.stats`): one model, so the sequences take the place of the study's
seeds. Each sequence gives one value per effect (its steps averaged first: steps within a
sequence are not independent, sequences are), a Student-t interval over sequences says how
sure the mean effect is for inputs like these, and `stats.adjust_verdicts` Holm-adjusts each
table's tests (per gate x event across units; across the whole matrix; across the attribution
rows). Units are reported one by one, each tested over the sequences; they do not replace
seeds: they are not independent draws (they share inputs and read each other). The verdicts
speak about this model on this input distribution, not about a training procedure.

Inputs come from files a config names (`user_model` section of config/schema.yaml): a module
factory (`"pkg.module:function"`, called without arguments), a `state_dict` checkpoint loaded
with `torch.load(weights_only=True)`, an inputs file (`.npz` loaded with
`allow_pickle=False`, or a `.pt` dict of tensors loaded with `weights_only=True`; its arrays are
the model's keyword arguments, `model(**inputs)`) and an events file (`.npz`: each array a
boolean event mask `[N, T]`; an optional `valid` mask marks the steps that exist, e.g. not
padding). The behaviour function `fn(outputs, inputs) -> {name: [N] scores}` scores each
sequence, higher = better.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from gateroles import stats


@dataclass(frozen=True)
class Settings:
    """The `user_model` section of the config (config/schema.yaml describes every key)."""

    name: str
    factory: str
    checkpoint: str
    inputs: str
    events: str
    behaviour: str
    module: str
    window: int
    confidence: float
    min_sequences: int
    seed: int
    tokens: str = ""

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        return cls(**config["user_model"])

    @property
    def stats(self) -> stats.Settings:
        """The study's statistics with sequences in the place of seeds."""
        return stats.Settings(bootstrap_samples=1000, confidence=self.confidence,
                              min_seeds=self.min_sequences)


def import_object(spec: str):
    """`"pkg.module:function"` -> the object; a ValueError naming what is wrong otherwise."""
    module, sep, name = spec.partition(":")
    if not sep or not module or not name:
        raise ValueError(f"{spec!r} is not of the form 'pkg.module:function'")
    try:
        found = importlib.import_module(module)
    except ImportError as exc:
        raise ValueError(f"cannot import {module!r} (from {spec!r}): {exc}") from None
    obj = found
    for part in name.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"module {module!r} has no {name!r} (from {spec!r})")
        obj = getattr(obj, part)
    return obj


def load_model(settings: Settings):
    """The user's module: the factory's result with the checkpoint's `state_dict` loaded
    (`weights_only=True`, strict), in eval mode, on the CPU."""
    import torch

    model = import_object(settings.factory)()
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"{settings.factory} returned a {type(model).__name__}, not an "
                        f"nn.Module")
    state = torch.load(settings.checkpoint, weights_only=True, map_location="cpu")
    if not isinstance(state, dict):
        raise TypeError(f"{settings.checkpoint} holds a {type(state).__name__}; expected a "
                        f"state_dict (a dict of tensors, as model.state_dict() gives)")
    model.load_state_dict(state)
    return model.eval()


def load_arrays(path: str | Path) -> dict:
    """A file of named arrays as tensors: `.npz` (no pickle) or `.pt` (weights_only)."""
    import numpy as np
    import torch

    path = Path(path)
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            return {name: torch.as_tensor(data[name]) for name in data.files}
    if path.suffix == ".pt":
        data = torch.load(path, weights_only=True, map_location="cpu")
        if not isinstance(data, dict) or not all(isinstance(v, torch.Tensor)
                                                 for v in data.values()):
            raise TypeError(f"{path} must hold a dict of name -> tensor")
        return dict(data)
    raise ValueError(f"{path}: expected a .npz or .pt file of named arrays")
