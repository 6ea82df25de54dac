"""A lens on a user's whole model: its own forward, every gate of every step recorded or hooked.

`Lens(model)` finds the recurrent submodules of any `nn.Module` (`nn.LSTM`, `nn.GRU`,
`nn.RNN` with any option, and `nn.LSTMCell` / `nn.GRUCell` / `nn.RNNCell`), or takes their
attribute paths. While it runs the model, each of them computes its forward with the explicit
recurrence of `gateroles.gates` (the one place that reproduces torch's modules, tested equal to
them), so the model's own code (embedding, packing, decoder loop, read-out, a state carried from
one call to the next) runs as written and the gates inside become visible. As TransformerLens
does for transformers:

    lens = Lens(model)                       # or Lens(model, ["encoder.rnn", "decoder.cell"])
    lens.hook_names                          # every hook point
    out, cache = lens.run_with_cache(x)      # the model's own output, and every activation
    cache["encoder.rnn.l0.fwd.forget"]       # [N, T, H]
    out = lens.run_with_hooks(x, fwd_hooks=[("decoder.cell.l0.fwd.update", fn)])
    out = lens.run_with_hooks(x, clamps={"encoder.rnn.l1.bwd.forget": (where, 1.0)})
    with lens.hooks(fwd_hooks=..., clamps=...) as cache:   # several calls, state carried
        for chunk in chunks: state = model(chunk, state)

Hook points are named `<module path>.l<layer>.<direction>.<name>`: the submodule's attribute
path as `named_modules` spells it (`encoder.rnn`, `layers.0`; empty for the model itself, then
the name starts at `l<layer>`), the layer (`l0` for a cell), the direction (`fwd`, or `bwd` for
the reverse direction of a bidirectional module) and a gate or state of `gates.extract`
(LSTM: input, forget, cell_candidate, output, cell, hidden; GRU: reset, update, candidate,
hidden; RNN: hidden). E.g. `encoder.rnn.l1.bwd.forget`.

Time: each recurrent submodule has its own time axis, its steps in the order they ran: a
module called once on a sequence contributes its T steps, a cell called once per step one step
per call, and the calls of one `run_with_*` or `hooks()` context are concatenated (the state a
model carries from one call to the next stays the model's business). The cache holds
`[N, T, X]` tensors on that axis (batch first whatever the module's layout; padded steps of a
PackedSequence are 0), and `where`/`value` of a clamp are given on it (`[N, T, H]`, or any
shape that broadcasts, e.g. `[N, T, 1]`). Besides the hook points the cache holds each state's
value before each step (`<..>.cell_previous`, `<..>.hidden_previous`: the start state at a
call's first step), which the attribution of state changes needs.

A hook is `fn(activation, hook)`: `activation` is the `[N, X]` value of one step, `hook` says
where (`hook.name`, `hook.step`: the step on the module's time axis, `hook.positions`: that
step per sequence, which differs only for the reverse direction of sequences of different
lengths); it returns a replacement (anything that broadcasts to `[N, X]`) or None. A replaced
gate is used from there on, so the change propagates to everything after it, in the layers
above and in the model's own code. A clamp `{name: (where, value)}` is the simple case run
without a Python call per step (one vectorised `lerp` per step it touches, as
`interventions.forward`). The lens runs without autograd (the recurrence writes into buffers).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

from gateroles import gates
from gateroles.architectures import spec

DIRECTIONS = ("fwd", "bwd")


@dataclass
class HookPoint:
    """Where a hook is called: `name`, its parts, and the step (see the module docstring)."""

    name: str
    path: str
    layer: int
    direction: str
    gate: str
    step: int | None = None
    positions: torch.Tensor | None = None


class ActivationCache(Mapping):
    """Activations by hook point name, `[N, T, X]` over every call (calls concatenated along
    time). `calls(name)` gives the per-call tensors (needed when calls differ in batch size)."""

    def __init__(self):
        self._calls: dict[str, list[torch.Tensor]] = {}

    def add(self, name: str, value: torch.Tensor) -> None:
        self._calls.setdefault(name, []).append(value)

    def calls(self, name: str) -> list[torch.Tensor]:
        return list(self._calls[name])

    def __getitem__(self, name: str) -> torch.Tensor:
        if name not in self._calls:
            raise KeyError(f"no activation {name!r} in the cache; it has: "
                           f"{', '.join(sorted(self._calls)) or 'nothing (no call ran)'}")
        parts = self._calls[name]
        if len({p.shape[0] for p in parts}) > 1:
            raise ValueError(f"{name}: its calls had different batch sizes "
                             f"{[p.shape[0] for p in parts]}; read them with cache.calls(name)")
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)

    def __iter__(self):
        return iter(self._calls)

    def __len__(self) -> int:
        return len(self._calls)

    def numpy(self) -> dict[str, np.ndarray]:
        """Every entry as a numpy array."""
        return {name: self[name].numpy() for name in self}


def hook_name(path: str, layer: int, direction: int | str, name: str) -> str:
    """`<path>.l<layer>.<fwd|bwd>.<name>` (no leading dot for the model itself)."""
    direction = DIRECTIONS[direction] if isinstance(direction, int) else direction
    return f"{path + '.' if path else ''}l{layer}.{direction}.{name}"


def find_recurrent(model: nn.Module) -> list[str]:
    """The attribute paths of every torch recurrent module and cell inside `model`."""
    return [path for path, module in model.named_modules()
            if isinstance(module, gates.MODULES + gates.CELLS)]


class Lens:
    """Run a user's model with the gates of its recurrent submodules recorded or hooked."""

    def __init__(self, model: nn.Module, modules: str | Iterable[str] | None = None):
        self.model = model
        found = find_recurrent(model)
        if modules is None:
            paths = found
        else:
            paths = [modules] if isinstance(modules, str) else list(modules)
        if not paths:
            raise ValueError(f"no recurrent module in this {type(model).__name__}: expected a "
                             f"submodule that is one of {gates.SUPPORTED}")
        named = dict(model.named_modules())
        self.modules: dict[str, nn.Module] = {}
        for path in paths:
            if path not in named:
                raise ValueError(f"{type(model).__name__} has no submodule {path!r}; its "
                                 f"recurrent submodules: {', '.join(map(repr, found)) or 'none'}")
            gates.describe(named[path])  # unsupported: a clear error now, not mid-run
            self.modules[path] = named[path]
        self._active: _Run | None = None

    @property
    def hook_names(self) -> list[str]:
        """Every hook point, module by module, layer by layer, direction by direction."""
        names = []
        for path, module in self.modules.items():
            rec = gates.describe(module)
            arch = gates.architecture(module)
            for k in range(rec.num_layers):
                for d in range(rec.directions):
                    names += [hook_name(path, k, d, g) for g in gates.gate_names(arch)]
        return names

    def run_with_cache(self, *args, **kwargs):
        """(the model's output on `model(*args, **kwargs)`, an `ActivationCache` of every hook
        point and previous state)."""
        with self.hooks() as cache:
            out = self.model(*args, **kwargs)
        return out, cache

    def run_with_hooks(self, *args, fwd_hooks: Iterable[tuple[str, Callable]] = (),
                       clamps: Mapping | None = None, **kwargs):
        """The model's output on `model(*args, **kwargs)` with `fwd_hooks` (`[(name, fn)]`)
        called at every step and `clamps` (`{name: (where, value)}`) applied."""
        with self.hooks(fwd_hooks, clamps, record=False):
            return self.model(*args, **kwargs)

    @contextlib.contextmanager
    def hooks(self, fwd_hooks: Iterable[tuple[str, Callable]] = (),
              clamps: Mapping | None = None, record: bool = True):
        """While active, every call of the named submodules runs through the lens (hooks,
        clamps, and with `record` the cache it yields), its steps counted across calls."""
        if self._active is not None:
            raise RuntimeError("this lens is already running (hooks() contexts do not nest)")
        run = _Run(self, list(fwd_hooks), dict(clamps or {}), record)
        patched = []
        try:
            for path, module in self.modules.items():
                own = module.__dict__.get("forward")
                module.forward = _Forward(run, path, module)
                patched.append((module, own))
            self._active = run
            with torch.no_grad():
                yield run.cache
        finally:
            for module, own in patched:
                del module.forward
                if own is not None:
                    module.forward = own
            self._active = None


class _Run:
    """One `hooks()` context: checked hooks and clamps, step counters, the cache."""

    def __init__(self, lens: Lens, fwd_hooks: list, clamps: dict, record: bool):
        valid = set(lens.hook_names)
        for name in [n for n, _ in fwd_hooks] + list(clamps):
            if name not in valid:
                raise ValueError(f"no hook point {name!r}; hook points of this model: "
                                 f"{', '.join(lens.hook_names)}")
        self.hooks: dict[str, list[Callable]] = {}
        for name, fn in fwd_hooks:
            self.hooks.setdefault(name, []).append(fn)
        for name in clamps:
            path, _, _, gate = _split(name)
            allowed = spec(gates.architecture(lens.modules[path])).gates
            if gate not in allowed:
                raise ValueError(f"cannot clamp {name!r}: clamps take the gates "
                                 f"({', '.join(allowed) or 'none'}); replace a state with a hook")
        self.clamps = clamps
        self.record = record
        self.cache = ActivationCache()
        self.steps = dict.fromkeys(lens.modules, 0)


def _split(name: str) -> tuple[str, int, str, str]:
    """A hook point name -> (module path, layer, direction, gate or state)."""
    head, layer, direction, gate = name.rsplit(".", 3) if name.count(".") >= 3 else (
        "", *name.split("."))
    return head, int(layer[1:]), direction, gate


class _Forward:
    """The forward a recurrent submodule runs under the lens: torch's signature and return
    values, computed by `gates`' recurrence with the run's hooks, clamps and recording."""

    def __init__(self, run: _Run, path: str, module: nn.Module):
        self.run, self.path, self.module = run, path, module
        self.rec = gates.describe(module)
        self.arch = gates.architecture(module)

    def __call__(self, input, hx=None):  # noqa: A002 - torch's own argument name
        rec = self.rec
        packed = input if isinstance(input, PackedSequence) else None
        x = input
        if rec.is_cell:  # one step: [N, F] -> [N, 1, F]; [F] -> [1, F]
            x = torch.as_tensor(input)[..., None, :]
        batch = gates.Batch(rec, x, None, hx)
        offset = self.run.steps[self.path]
        self.run.steps[self.path] = offset + batch.t_len
        clamps = {k: self._clamps(k, batch, offset) for k in range(rec.num_layers)}
        hooks = {k: self._hooks(k, batch, offset) for k in range(rec.num_layers)}
        keep = tuple(range(rec.num_layers)) if self.run.record else ()
        kept, output, (h_n, c_n) = gates.recurrence(
            rec, batch, rec.num_layers - 1, clamps, keep=keep, hooks=hooks,
            keep_previous=self.run.record, finals=True)
        if self.run.record:
            self._record(kept)
        return self._returned(output, h_n, c_n, batch, packed)

    def _directions(self, layer: int):
        widths = {"cell": self.rec.hidden_size, "hidden": self.rec.out_size}
        for d in range(self.rec.directions):
            for name in gates.gate_names(self.arch):
                yield d, name, hook_name(self.path, layer, d, name), widths.get(
                    name, self.rec.hidden_size)

    def _record(self, kept: dict) -> None:
        """Every gate and state of every layer and direction (views of the loop's buffers,
        which each call allocates anew), batch first."""
        for k, values in kept.items():
            for d, name, full, width in self._directions(k):
                for key, suffix in ((name, ""), (f"{name}_previous", "_previous")):
                    if key in values:
                        part = values[key][..., d * width:(d + 1) * width].transpose(0, 1)
                        self.run.cache.add(full + suffix, part)

    def _clamps(self, layer: int, batch: gates.Batch, offset: int) -> dict:
        """This call's loop clamps of one layer: each direction's `[N, T, H]` window."""
        rec, n, t_len = self.rec, batch.n, batch.t_len
        out = {}
        for gate in spec(self.arch).gates:
            names = [hook_name(self.path, layer, d, gate) for d in range(rec.directions)]
            if not any(name in self.run.clamps for name in names):
                continue
            masks, values = [], []
            for d, name in enumerate(names):
                where, value = self.run.clamps.get(name, (False, 0.0))
                mask = _window(name, where, offset, t_len, n, rec.hidden_size, torch.bool)
                val = _window(name, value, offset, t_len, n, rec.hidden_size, torch.float32)
                if d:
                    mask, val = (batch.reverse(t.expand(n, t_len, -1), time_axis=1)
                                 for t in (mask, val))
                masks.append(mask)
                values.append(val)
            # the directions' rows one after the other, each at the size they share
            out[gate] = tuple(torch.cat([t.expand(n, *torch.broadcast_shapes(
                *(p.shape for p in parts))[1:]) for t in parts]) for parts in (masks, values))
        return out

    def _hooks(self, layer: int, batch: gates.Batch, offset: int) -> dict:
        """This call's per-step hooks of one layer: name -> fn(t, rows [D * N, X])."""
        per_name: dict[str, list] = {}
        for d, name, full, _ in self._directions(layer):
            if full in self.run.hooks:
                per_name.setdefault(name, []).append((d, full, self.run.hooks[full]))
        return {name: _StepHook(entries, self.path, layer, name, batch, offset)
                for name, entries in per_name.items()}

    def _returned(self, output, h_n, c_n, batch: gates.Batch, packed):
        """What torch's forward of this module returns, from the recurrence's results."""
        rec = self.rec
        if rec.is_cell:
            h = h_n[0, 0] if batch.layout != "unbatched" else h_n[0, 0, 0]
            if rec.cell != "lstm":
                return h
            return h, (c_n[0, 0] if batch.layout != "unbatched" else c_n[0, 0, 0])
        output = batch.to_module(output)
        if packed is not None:
            lengths = (batch.lengths if batch.lengths is not None
                       else torch.full((batch.n,), batch.t_len))
            order = packed.sorted_indices
            padded = output if rec.batch_first else output.transpose(0, 1)
            if order is not None:
                padded, lengths = padded[order], lengths[order]
            data = pack_padded_sequence(padded, lengths, batch_first=True).data
            output = PackedSequence(data, packed.batch_sizes, packed.sorted_indices,
                                    packed.unsorted_indices)
        states = [s.reshape(rec.num_layers * rec.directions, batch.n, -1)
                  for s in (h_n, c_n) if s is not None]
        if batch.layout == "unbatched":
            states = [s[:, 0] for s in states]
        return output, (tuple(states) if rec.cell == "lstm" else states[0])


def _window(name: str, array, offset: int, t_len: int, n: int, width: int, dtype
            ) -> torch.Tensor:
    """Steps `offset .. offset + t_len` of a clamp's `where` or `value` given on a module's
    whole time axis (`[N, T, H]` or any shape broadcasting to it) -> `[N', t_len', H']`."""
    t = torch.as_tensor(array)
    if dtype is torch.bool and t.dtype != torch.bool:
        raise ValueError(f"clamp of {name!r}: `where` must be boolean, got {t.dtype}")
    t = t.to(dtype)
    while t.ndim < 3:
        t = t[None]
    if t.ndim > 3 or t.shape[0] not in (1, n) or t.shape[2] not in (1, width):
        raise ValueError(f"clamp of {name!r}: {tuple(t.shape)} must broadcast to [N, T, H] = "
                         f"[{n}, T, {width}] on the module's time axis")
    if t.shape[1] == 1:
        return t
    if t.shape[1] < offset + t_len:
        raise ValueError(f"clamp of {name!r} covers {t.shape[1]} steps; the module ran to step "
                         f"{offset + t_len} (its calls' steps, concatenated)")
    return t[:, offset:offset + t_len]


class _StepHook:
    """The loop's per-step hook of one name in one layer: each direction's rows go to its
    user hooks, and their replacements come back as the loop's rows."""

    def __init__(self, entries, path, layer, name, batch: gates.Batch, offset: int):
        self.entries, self.batch, self.offset = entries, batch, offset
        self.points = {d: HookPoint(full, path, layer, DIRECTIONS[d], name)
                       for d, full, _ in entries}

    def __call__(self, t: int, rows: torch.Tensor) -> list | None:
        n, t_len, batch = self.batch.n, self.batch.t_len, self.batch
        replaced = []
        for d, _, fns in self.entries:
            point = self.points[d]
            if d == 0:
                positions = torch.full((n,), self.offset + t)
            elif batch.lengths is None:
                positions = torch.full((n,), self.offset + t_len - 1 - t)
            else:
                positions = self.offset + batch.rev[t]
            point.positions = positions
            point.step = int(positions[0]) if bool((positions == positions[0]).all()) else None
            own = slice(d * n, (d + 1) * n)
            value, changed = rows[own], False
            for fn in fns:  # several hooks on one point run in turn, each on the last's value
                new = fn(value, point)
                if new is not None:
                    value = torch.broadcast_to(torch.as_tensor(new, dtype=torch.float32),
                                               value.shape)
                    changed = True
            if changed:
                replaced.append((own, value))
        return replaced or None
