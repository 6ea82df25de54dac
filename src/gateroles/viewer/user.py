"""The viewer of a user's own model: one call on a lens run (`from_lens`), or a config.

    from gateroles.viewer.user import from_lens
    from_lens(model, {"letters": x, "lengths": n}, "viewer.html",
              events={"word_end": ends}, tokens=letters, behaviour=scores,
              perturbations={"update = 1 at the end mark":
                             {"encoder.l0.fwd.update": (ends[..., None], 1.0)}})

The model runs through `gateroles.lens` on every given sequence (its own forward, as written);
the page shows every layer and direction of every recurrent submodule the lens sees (one
"model" each, chosen by module, layer and direction), on a few of the sequences, with the
user's tokens written under the steps and the user's events marked. Each of `checkpoints`
(other weights of the same model, e.g. before training) is a checkpoint to choose and compare;
each of `perturbations` (lens clamps and/or hooks) is a perturbed run of the model shown beside
the free one, with the perturbed steps and hook point marked, and with a `behaviour` function
the scores before and after (per shown sequence, over the shown ones, over all given ones).

`from_config` is the workflow's `user_model_viewer` job: the same page from a user config
(`user_model` section), with the matched interchanges of `own_model.measure` as perturbations.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import torch

from gateroles import gates
from gateroles.analyses.causal.measure import event_response
from gateroles.lens import Lens, hook_name
from gateroles.viewer.page import Builder, write


def _call(model, inputs):
    """`model` on `inputs`: a dict (keyword arguments), a tuple or list (positional ones) or
    one tensor."""
    if isinstance(inputs, Mapping):
        return model(**inputs)
    if isinstance(inputs, (tuple, list)):
        return model(*inputs)
    return model(inputs)


def _numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _per_module(value, paths: list[str], main: str, nested: bool = False) -> dict:
    """{module path: value}: `value` given for the main module, or already as a dict keyed by
    module paths (`nested`: the main module's own form is itself a dict, e.g. events, so a
    per-module dict is one whose values are dicts)."""
    if value is None:
        return {}
    if isinstance(value, Mapping) and value and set(value) <= set(paths) and (
            not nested or all(isinstance(v, Mapping) for v in value.values())):
        return dict(value)
    return {main: value}


def points(lens: Lens) -> list[tuple[str, int, str, str]]:
    """(module path, layer, direction, architecture) of every layer and direction."""
    out = []
    for path, module in lens.modules.items():
        rec, arch = gates.describe(module), gates.architecture(module)
        for layer in range(rec.num_layers):
            for d in range(rec.directions):
                out.append((path, layer, ("fwd", "bwd")[d], arch))
    return out


def _arrays(cache, path: str, layer: int, direction: str, arch: str, rows) -> dict:
    """{gate or state: [n, T, H]} of one layer and direction, the `rows` sequences; a
    narrower array (an LSTM's projected hidden state) padded with NaN to the gates' width."""
    names = gates.gate_names(arch)
    out = {name: _numpy(cache[hook_name(path, layer, direction, name)])[rows].astype(np.float32)
           for name in names}
    width = max(a.shape[-1] for a in out.values())
    for name, a in out.items():
        if a.shape[-1] < width:
            pad = np.full(a.shape[:-1] + (width - a.shape[-1],), np.nan, dtype=np.float32)
            out[name] = np.concatenate([a, pad], axis=-1)
    return out


def _conform(array: np.ndarray, shape: tuple) -> np.ndarray:
    """A perturbed run's array on the free run's steps (a decoder that ran fewer or more
    steps: cut, or padded with NaN)."""
    if array.shape == shape:
        return array
    out = np.full(shape, np.nan, dtype=np.float32)
    t = min(shape[1], array.shape[1])
    out[:, :t] = array[:, :t]
    return out


def choose(events: dict, valid: np.ndarray, n: int) -> np.ndarray:
    """The `n` sequences with the most kinds of event (ties to the earlier one), sorted."""
    kinds = (np.sum([(np.asarray(e) & valid).any(axis=1) for e in events.values()], axis=0)
             if events else np.zeros(valid.shape[0]))
    order = np.lexsort((np.arange(valid.shape[0]), -kinds))
    return np.sort(order[:n])


def _masks(where, shape: tuple) -> np.ndarray:
    """A clamp's `where` as the steps it touches, `[N, T]`."""
    w = _numpy(where).astype(bool)
    full = np.broadcast_to(w, shape) if w.ndim == len(shape) else np.broadcast_to(
        w.reshape(w.shape + (1,) * (len(shape) - w.ndim)), shape)
    return full.any(axis=-1)


def _scores(behaviour, out, inputs) -> dict[str, np.ndarray] | None:
    if behaviour is None:
        return None
    scores = behaviour(out, inputs)
    if not isinstance(scores, Mapping) or not scores:
        raise TypeError("behaviour must return {name: [N] scores}, got "
                        f"{type(scores).__name__}")
    return {k: _numpy(v).astype(np.float64).reshape(-1) for k, v in scores.items()}


def _score_rows(free: dict | None, perturbed: dict | None, rows: np.ndarray) -> list[dict]:
    """Per behaviour: [free, perturbed] per shown sequence, over the shown ones, over all."""
    if not free or not perturbed:
        return []
    out = []
    for name, before in free.items():
        after = perturbed[name]
        out.append({"behaviour": name, "metric": "score",
                    "seqs": [[_round(before[r]), _round(after[r])] for r in rows],
                    "shown": [_round(np.nanmean(before[rows])), _round(np.nanmean(after[rows]))],
                    "study": [_round(np.nanmean(before)), _round(np.nanmean(after)),
                              int(before.size)]})
    return out


def _round(x) -> float | None:
    x = float(x)
    return float(f"{x:.4g}") if np.isfinite(x) else None


def _run_perturbation(lens: Lens, inputs, spec) -> tuple:
    """(output, cache, {hook point: [N, T] perturbed steps}) of one perturbation: a clamp
    dict `{name: (where, value)}` or `{"clamps": ..., "fwd_hooks": [(name, fn)]}`."""
    if isinstance(spec, Mapping) and set(spec) <= {"clamps", "fwd_hooks"} and spec:
        clamps, hooks = dict(spec.get("clamps") or {}), list(spec.get("fwd_hooks") or ())
    else:
        clamps, hooks = dict(spec), []
    touched: dict[str, list] = {}

    def recording(name: str, fn: Callable):
        def hook(activation, point):
            result = fn(activation, point)
            if result is not None:
                touched.setdefault(name, []).append(
                    _numpy(point.positions) if point.positions is not None else point.step)
            return result
        return hook

    with lens.hooks(fwd_hooks=[(n, recording(n, f)) for n, f in hooks], clamps=clamps) as cache:
        out = _call(lens.model, inputs)
    where = {}
    for name, (mask, _) in clamps.items():
        where[name] = _masks(mask, tuple(cache[name].shape))
    for name, steps in touched.items():
        n, t_len = cache[name].shape[:2]
        mask = where.setdefault(name, np.zeros((n, t_len), dtype=bool))
        for s in steps:
            s = np.broadcast_to(np.asarray(s), (n,))
            ok = (s >= 0) & (s < t_len)
            mask[np.flatnonzero(ok), s[ok]] = True
    return out, cache, where


def from_lens(model, inputs, path: str | Path, *, events: Mapping | None = None,
              tokens=None, valid=None, module: str | None = None, modules=None,
              sequences: int | list[int] = 4, behaviour: Callable | None = None,
              perturbations: Mapping | None = None, perturbed_sequences: int | None = None,
              checkpoints: Mapping | None = None, label: str = "the model",
              title: str | None = None, notes: list[str] = ()) -> Path:
    """Write the viewer of `model` (an `nn.Module` or a `Lens`) run on `inputs` to `path`.

    - `inputs`: the model's arguments: a dict (`model(**inputs)`), a tuple (`model(*inputs)`)
      or one tensor; every sequence in it runs, `sequences` of them are shown (a count: those
      with the most kinds of event; or a list of indices);
    - `module`: the recurrent submodule (attribute path; default the first the lens sees) on
      whose time axis `events` (`{name: [N, T] bool}`), `tokens` (`[N][T]` labels of its
      steps) and `valid` (`[N, T]` bool, the steps that exist) are given; each may instead be a
      dict {module path: value} for several modules; `modules`: the submodules to show
      (default every one the lens sees);
    - `behaviour`: `fn(outputs, inputs) -> {name: [N] scores}` (higher is better), scored for
      the free run and each perturbation;
    - `perturbations`: {label: clamps `{hook point: (where, value)}`, or {"clamps": ...,
      "fwd_hooks": [(hook point, fn)]}}: lens runs shown beside the free one (on the first
      `perturbed_sequences` shown sequences; default all shown), the steps a clamp covers or
      a hook replaced marked;
    - `checkpoints`: {label: state_dict or nn.Module}: other weights of the same model (e.g.
      before training), each a checkpoint to choose and compare (the model itself is `label`).
    """
    lens = model if isinstance(model, Lens) else Lens(model, modules)
    paths = list(lens.modules)
    main = module or paths[0]
    if main not in paths:
        raise ValueError(f"module {main!r} is not one of the lens's modules {paths}")
    out, cache = lens.run_with_cache(**inputs) if isinstance(inputs, Mapping) else (
        lens.run_with_cache(*inputs) if isinstance(inputs, (tuple, list))
        else lens.run_with_cache(inputs))
    shapes = {p: tuple(cache[hook_name(p, 0, "fwd", "hidden")].shape[:2]) for p in paths}
    event_sets = {p: {k: _numpy(v).astype(bool) for k, v in e.items()}
                  for p, e in _per_module(events, paths, main, nested=True).items()}
    token_sets = _per_module(tokens, paths, main)
    valid_sets = {p: _numpy(v).astype(bool) for p, v in _per_module(valid, paths, main).items()}
    for p in paths:
        n, t_len = shapes[p]
        valid_sets.setdefault(p, np.ones((n, t_len), dtype=bool))
        for name, mask in {**event_sets.get(p, {}), "valid": valid_sets[p]}.items():
            if mask.shape != (n, t_len):
                raise ValueError(f"{name!r} of module {p or '(the model)'!r} is {list(mask.shape)}"
                                 f"; expected [N, T] = {[n, t_len]} (its sequences x steps)")
    n_all = shapes[main][0]
    rows = (np.sort(np.asarray(sequences, dtype=int)) if not np.isscalar(sequences)
            else choose(event_sets.get(main, {}), valid_sets[main], int(sequences)))
    if rows.size == 0 or rows.min() < 0 or rows.max() >= n_all:
        raise ValueError(f"sequences {rows.tolist()} are not among the {n_all} given")
    n_pert = len(rows) if perturbed_sequences is None else min(perturbed_sequences, len(rows))
    free_scores = _scores(behaviour, out, inputs)

    # other checkpoints, then the perturbations of the model itself
    runs = []
    for name, weights in (checkpoints or {}).items():
        other = copy.deepcopy(lens.model)
        other.load_state_dict(weights.state_dict() if isinstance(weights, torch.nn.Module)
                              else weights)
        other_lens = Lens(other.eval(), paths)
        _, other_cache = (other_lens.run_with_cache(**inputs) if isinstance(inputs, Mapping)
                          else other_lens.run_with_cache(*inputs)
                          if isinstance(inputs, (tuple, list))
                          else other_lens.run_with_cache(inputs))
        runs.append((str(name), other_cache))
    runs.append((label, cache))
    perturbed = []
    for name, spec in (perturbations or {}).items():
        p_out, p_cache, where = _run_perturbation(lens, inputs, spec)
        perturbed.append((str(name), p_cache, where, _scores(behaviour, p_out, inputs)))

    builder = Builder(title or f"Every gate of {type(lens.model).__name__} on your sequences",
                      "through gateroles.lens", dims=["module", "layer", "direction"],
                      notes=[*notes, *_notes(len(rows), n_all, n_pert, behaviour)])
    builder.data["study_label"] = f"over all {n_all} sequences given"
    for p in paths:
        n, t_len = shapes[p]
        sq_valid = valid_sets[p][rows]
        labels = token_sets.get(p)
        labels = ([[str(x) for x in _numpy(labels[r]).tolist()][:t_len] for r in rows]
                  if labels is not None else [[""] * t_len for _ in rows])
        lengths = [int(np.flatnonzero(v).max()) + 1 if v.any() else 0 for v in sq_valid]
        builder.sequences(p or "(model)", label=p or "(the model)", tokens=labels,
                          events={k: v[rows] & sq_valid for k, v in event_sets.get(p, {}).items()},
                          mask=np.zeros((len(rows), t_len), dtype=bool), lengths=lengths)
    for p, layer, direction, arch in points(lens):
        sq_events = event_sets.get(p, {})
        valid_all = valid_sets[p]
        first = _arrays(runs[0][1], p, layer, direction, arch, rows)
        names = list(first)
        width = next(iter(first.values())).shape[-1]
        note = f"{type(lens.modules[p]).__name__} ({arch}), {width} units"
        entry = builder.model({"module": p or "(model)", "layer": f"l{layer}",
                               "direction": direction}, p or "(model)", arch, names, width, note)
        for k, (run_label, run_cache) in enumerate(runs):
            arrays = first if k == 0 else _arrays(run_cache, p, layer, direction, arch, rows)
            mine = run_cache is cache
            p_arrays = []
            if mine:
                for _, p_cache, _, _ in perturbed:
                    got = _arrays(p_cache, p, layer, direction, arch, rows[:n_pert])
                    p_arrays.append({a: _conform(got[a], arrays[a][:n_pert].shape)
                                     for a in names})
            scores = _sort_scores(builder, run_cache, p, layer, direction, arch, sq_events,
                                  valid_all)
            run = builder.run(run_label, arrays, arch, perturbed=p_arrays, scores=scores)
            entry["runs"].append(run)
            for (p_label, _, where, p_scores), got in zip(perturbed if mine else [], p_arrays,
                                                           strict=True):
                here = [w for w in where if w.startswith(hook_name(p, layer, direction, ""))]
                gate = ", ".join(w.rsplit(".", 1)[1] for w in here) or "–"
                steps = (np.logical_or.reduce([where[w] for w in here])[rows[:n_pert]]
                         if here else np.zeros((n_pert, shapes[p][1]), dtype=bool))
                size = None
                if len(here) == 1 and here[0].rsplit(".", 1)[1] in arrays:
                    g = here[0].rsplit(".", 1)[1]
                    moved = np.abs(got[g] - arrays[g][:n_pert])[steps]
                    size = _round(np.nanmean(moved)) if moved.size else None
                elsewhere = sorted(set(where) - set(here))
                builder.perturbation(
                    run, got, names, label=p_label, intervention="lens", gate=gate,
                    event=None, condition=None, value=None, size=size, changes=True,
                    where=[np.flatnonzero(s).tolist() for s in steps], source=None,
                    out=None, scores=_score_rows(free_scores, p_scores, rows[:n_pert]),
                    higher_better=True,
                    note=(f"Set at {', '.join(elsewhere)}; this layer shows its effect."
                          if elsewhere and not here else ""))
    return write(builder.finish(), path)


def _sort_scores(builder: Builder, cache, path: str, layer: int, direction: str, arch: str,
                 events: dict, valid: np.ndarray) -> dict:
    """`response`: per event, per array, |mean at the event's steps - at the other valid
    steps| per unit over all given sequences (`causal.measure.event_response`)."""
    response = {}
    for event, mask in events.items():
        at, rest = mask & valid, ~mask & valid
        if not at.any() or not rest.any():
            continue
        keep = at | rest
        response[event] = {}
        for name in gates.gate_names(arch):
            values = _numpy(cache[hook_name(path, layer, direction, name)])
            response[event][name] = builder.score(event_response(values[keep], at[keep]))
    return {"response": response}


def _notes(n_shown: int, n_all: int, n_pert: int, behaviour) -> list[str]:
    return [f"{n_shown} of the {n_all} sequences given are shown (those where the most kinds "
            f"of event occur); perturbed runs on the first {n_pert} shown.",
            "Units are ordered by unit index or by their response to an event: |mean of the "
            f"shown array at the event's steps - at the other valid steps| over all {n_all} "
            "sequences.",
            *(["Scores: the behaviour function's, per sequence, higher is better."]
              if behaviour else []),
            "Values are stored as 8-bit codes: gates in steps of 0.004, tanh-bounded arrays "
            "of 0.008, unbounded ones (an LSTM's cell) of 1/255 of their largest |value|."]


def from_config(config: dict, path: str | Path) -> Path:
    """The workflow's `user_model_viewer` job: the viewer of the config's user model, with
    the matched interchanges of `own_model.measure.perturbation` (each gate at each event,
    and at as many quiet steps) as perturbations."""
    from gateroles.own_model import Settings, import_object, load_arrays, load_model
    from gateroles.own_model.measure import _interchange, gate_points, load_events, matched_quiet
    from gateroles.viewer import Settings as ViewerSettings

    settings, shown = Settings.from_config(config), ViewerSettings.from_config(config)
    model = load_model(settings)
    inputs = load_arrays(settings.inputs)
    lens = Lens(model)
    main = settings.module or None
    if main is None:
        if len(lens.modules) != 1:
            raise ValueError(f"the model has recurrent submodules {list(lens.modules)}: name "
                             f"the one to analyse as user_model.module")
        main = next(iter(lens.modules))
    _, cache = Lens(model, main).run_with_cache(**inputs)
    points_main = gate_points(Lens(model, main), main)
    n, t_len = cache[points_main[0][0]].shape[:2]
    events, valid = load_events(settings.events, (n, t_len))
    quiet = valid & ~np.any(list(events.values()), axis=0)
    rng = np.random.default_rng(settings.seed)
    perturbations = {}
    # none shown (viewer.perturbed_sequences 0): none run
    for event, mask in (events if shown.perturbed_sequences else {}).items():
        at, donors, control, control_donors = matched_quiet(mask, quiet, rng)
        for name, gate in points_main:
            clean = cache[name]
            layer = name[len(main) + 1:].rsplit(".", 1)[0] if main else name.rsplit(".", 1)[0]
            perturbations[f"{gate} ({layer}) at every {event} step replaced by its own value "
                          f"at a quiet step (matched interchange)"] = {
                name: _interchange(clean, at, donors)}
            perturbations[f"{gate} ({layer}) at as many quiet steps replaced by its own value "
                          f"at another quiet step (control for {event})"] = {
                name: _interchange(clean, control, control_donors)}
    tokens = import_object(settings.tokens)(inputs) if settings.tokens else None
    behaviour = import_object(settings.behaviour)
    return from_lens(lens, inputs, path, events=events, valid=valid, tokens=tokens,
                     module=main, sequences=shown.sequences, behaviour=behaviour,
                     perturbations=perturbations,
                     perturbed_sequences=shown.perturbed_sequences,
                     title=f"Every gate of {settings.name}",
                     notes=[f"The user model {settings.name!r} ({settings.factory}), its "
                            f"analysed module {main!r}: the matched interchanges are those "
                            "of its report (the same quiet steps, seed "
                            f"{settings.seed})."])
