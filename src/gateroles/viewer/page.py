"""The viewer page: its data, encoded compactly, and the self-contained HTML around it.

Torch-free. The study's builder (`viewer.study`) and a lens run's (`viewer.user`) describe what
to show as plain dicts (sequences, models, runs, perturbations; see `Builder`) and hand the
arrays to `Builder`, which quantises them and packs them into one binary buffer; `render`
writes the page (`viewer.html`: markup, style and script, no external file) with that data
embedded as JSON, the buffer deflated and base64-encoded in it. The page inflates it with the
browser's own `DecompressionStream`, so it needs no server, network or library.

Encoding. Every activation array of one run (`[n sequences, T, H]`) becomes uint8 codes
`round((x - lo) / (hi - lo) * 255)`: sigmoid gates on [0, 1] (steps of 0.004), tanh-bounded
arrays (candidates, the LSTM's and GRU's hidden state) on [-1, 1] (0.008), unbounded ones (the
LSTM cell) on [-m, m] with m the largest |x| of the run and its perturbations. Units are laid
out as rows over time (`[sequence][unit][step]`), free runs coded as differences from the step
before (mod 256) and perturbed runs as differences from their free run (mod 256, on the same
scale, so they are 0 before the first perturbed step), which deflate well. Per-unit sort scores
are uint8 codes on [0, their maximum].
"""

from __future__ import annotations

import base64
import json
import zlib
from importlib import resources
from pathlib import Path

import numpy as np

from gateroles import storage

# How an array is quantised and coloured: "gate" (a sigmoid, [0, 1]), "tanh" ([-1, 1]) or
# "free" (unbounded, symmetric about 0).
GATES = ("input", "forget", "output", "reset", "update")
BOUNDED = ("cell_candidate", "candidate")


def kind(name: str, arch: str | None = None) -> str:
    """The range kind of array `name`: gates, tanh-bounded arrays, or unbounded states."""
    if name in GATES:
        return "gate"
    if name in BOUNDED or (name == "hidden" and arch in ("lstm", "gru")):
        return "tanh"
    return "free"


def quantise(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """uint8 codes of `values` on [lo, hi] (clipped; NaN -> the code of lo)."""
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    codes = np.rint((np.nan_to_num(np.asarray(values, dtype=np.float64), nan=lo) - lo) * scale)
    return np.clip(codes, 0, 255).astype(np.uint8)


def value_range(name: str, arch: str | None, arrays: list[np.ndarray]) -> tuple[float, float]:
    """(lo, hi) of array `name` across `arrays` (a free run and its perturbations)."""
    k = kind(name, arch)
    if k == "gate":
        return 0.0, 1.0
    if k == "tanh":
        return -1.0, 1.0
    m = max((float(np.nanmax(np.abs(a))) if np.size(a) else 0.0) for a in arrays)
    m = float(np.float32(m if np.isfinite(m) and m > 0 else 1.0))
    return -m, m


def _rows(array: np.ndarray) -> np.ndarray:
    """`[n, T, H]` -> `[n, H, T]` contiguous: each unit a row over time."""
    return np.ascontiguousarray(np.asarray(array).transpose(0, 2, 1))


class Builder:
    """The page's data: sequences, models and their runs, and one binary buffer.

    `data` is what the page reads (JSON); arrays go to the buffer through `run` and
    `perturbation`, which return the dicts to place in a model's `runs` / a run's
    `perturbations`.
    """

    def __init__(self, title: str, subtitle: str = "", dims=("model",), report: str | None = None,
                 notes: list[str] | None = None):
        self.parts: list[bytes] = []
        self.size = 0
        self.data = {"title": title, "subtitle": subtitle, "dims": list(dims),
                     "report": report, "notes": list(notes or []), "seqs": {}, "models": []}

    def _add(self, codes: np.ndarray) -> int:
        offset = self.size
        raw = np.ascontiguousarray(codes, dtype=np.uint8).tobytes()
        self.parts.append(raw)
        self.size += len(raw)
        return offset

    def sequences(self, key: str, *, tokens, events: dict, mask, targets=None,
                  behaviours: dict | None = None, classes: list[str] | None = None,
                  lengths=None, label: str = "") -> None:
        """A set of sequences that models are shown on: `tokens` `[n][T]` labels, `events`
        (role -> `[n, T]` bool), the scored steps `mask` `[n, T]` with their `targets` and
        the behaviour each belongs to (`behaviours`: name -> `[n, T]` bool), `classes`: the
        names of the target classes (None for regression), `lengths`: valid steps."""
        mask = np.asarray(mask, dtype=bool)
        n, t_len = mask.shape
        steps = [np.flatnonzero(mask[k]).tolist() for k in range(n)]
        entry = {"label": label, "n": n, "T": t_len,
                 "tokens": [[str(x) for x in row] for row in tokens],
                 "lengths": ([int(x) for x in lengths] if lengths is not None
                             else [t_len] * n),
                 "events": {role: [np.flatnonzero(np.asarray(e)[k]).tolist() for k in range(n)]
                            for role, e in events.items()},
                 "scored": steps, "classes": classes}
        if targets is not None:
            targets = np.asarray(targets)
            entry["targets"] = [_plain(targets[k, s]) for k, s in enumerate(steps)]
        names = list(behaviours or {})
        entry["behaviours"] = names
        entry["behaviour"] = [[next((b for b, name in enumerate(names)
                                     if np.asarray(behaviours[name])[k, t]), -1) for t in s]
                              for k, s in enumerate(steps)]
        self.data["seqs"][key] = entry

    def model(self, keys: dict, seqs: str, arch: str, arrays: list[str], units: int,
              note: str = "") -> dict:
        """A model entry (append runs to its `runs`)."""
        entry = {"keys": {k: str(v) for k, v in keys.items()}, "seqs": seqs, "arch": arch,
                 "arrays": list(arrays), "kinds": {a: kind(a, arch) for a in arrays},
                 "H": int(units), "note": note, "runs": []}
        self.data["models"].append(entry)
        return entry

    def run(self, label: str, arrays: dict[str, np.ndarray], arch: str | None, *,
            perturbed: list[dict[str, np.ndarray]] = (), outputs=None, scores=None,
            step: int | None = None) -> dict:
        """A free run: `arrays` name -> `[n, T, H]`, coded on the ranges they share with the
        `perturbed` runs that will be added to it (`perturbation`); `outputs`: per sequence the
        prediction at each scored step; `scores`: sort scores (`score`)."""
        ranges = {name: value_range(name, arch, [a] + [p[name] for p in perturbed if name in p])
                  for name, a in arrays.items()}
        codes = [quantise(_rows(a), *ranges[name]) for name, a in arrays.items()]
        stacked = np.stack(codes)  # [arrays, n, H, T]
        delta = np.diff(stacked.astype(np.int16), axis=-1, prepend=0).astype(np.uint8)
        entry = {"label": label, "step": step, "data": self._add(delta),
                 "shape": list(stacked.shape[1:]), "ranges": [ranges[n] for n in arrays],
                 "codes": stacked, "out": outputs, "scores": scores or {},
                 "perturbations": []}
        return entry

    def perturbation(self, run: dict, arrays: dict[str, np.ndarray], names: list[str],
                     **fields) -> dict:
        """A perturbed run of `run` (its first `n` sequences, `arrays` name -> `[n, T, H]`, the
        names in the free run's order), with its description `fields` (label, gate, where,
        source, scores, out, ...)."""
        n = next(iter(arrays.values())).shape[0]
        codes = np.stack([quantise(_rows(arrays[name]), *run["ranges"][k])
                          for k, name in enumerate(names)])
        delta = (codes.astype(np.int16) - run["codes"][:, :n]).astype(np.uint8)
        entry = {**fields, "n": int(n), "data": self._add(delta)}
        run["perturbations"].append(entry)
        return entry

    def score(self, values) -> list:
        """A per-unit sort score: [offset, scale] of its uint8 codes on [0, scale]."""
        values = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0)
        top = float(np.float32(max(float(values.max(initial=0.0)), 1e-12)))
        return [self._add(quantise(values, 0.0, top)), top]

    def finish(self) -> dict:
        """The page's data with the buffer attached (base64 of its deflated bytes)."""
        for model in self.data["models"]:
            for run in model["runs"]:
                run.pop("codes", None)
        blob = zlib.compress(b"".join(self.parts), 9)
        return {**self.data, "bytes": self.size, "bin": base64.b64encode(blob).decode("ascii")}


def buffer(data: dict) -> np.ndarray:
    """The page's binary buffer (uint8), inflated from `data["bin"]`."""
    return np.frombuffer(zlib.decompress(base64.b64decode(data["bin"])), dtype=np.uint8)


def decode(data: dict, model: int, run: int, perturbation: int | None = None,
           buf: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The arrays of one run as the page reads them, name -> `[n, T, H]` float32 (the
    reference of the page's decoding; tests compare what it draws against this)."""
    buf = buffer(data) if buf is None else buf
    entry = data["models"][model]
    r = entry["runs"][run]
    n, h, t = r["shape"]
    a = len(entry["arrays"])
    codes = np.cumsum(buf[r["data"]:r["data"] + a * n * h * t].reshape(a, n, h, t),
                      axis=-1, dtype=np.uint64).astype(np.uint8)
    if perturbation is not None:
        p = r["perturbations"][perturbation]
        m = p["n"]
        codes = (buf[p["data"]:p["data"] + a * m * h * t].reshape(a, m, h, t)
                 + codes[:, :m]).astype(np.uint8)
    out = {}
    for k, name in enumerate(entry["arrays"]):
        lo, hi = r["ranges"][k]
        out[name] = (lo + codes[k].astype(np.float32) * np.float32((hi - lo) / 255)
                     ).transpose(0, 2, 1)
    return out


def scores(data: dict, pair: list, buf: np.ndarray | None = None) -> np.ndarray:
    """A per-unit sort score as the page reads it (`Builder.score`'s [offset, scale])."""
    buf = buffer(data) if buf is None else buf
    h = None
    for model in data["models"]:
        for run in model["runs"]:
            if _holds(run["scores"], pair):
                h = model["H"]
    if h is None:
        raise KeyError(f"no sort score at {pair}")
    return buf[pair[0]:pair[0] + h].astype(np.float64) * pair[1] / 255


def _holds(scores: dict, pair: list) -> bool:
    if scores.get("memory") == pair:
        return True
    return any(p == pair for r in scores.get("response", {}).values() for p in r.values())


def _plain(values) -> list:
    """Numbers as JSON: ints stay ints, floats get 4 significant digits."""
    values = np.asarray(values)
    if np.issubdtype(values.dtype, np.integer) or values.dtype == bool:
        return [int(v) for v in values]
    return [float(f"{v:.4g}") if np.isfinite(v) else None for v in values.astype(float)]


def plain(values) -> list:
    return _plain(values)


def render(data: dict) -> str:
    """The page's HTML: the template with `data` embedded as JSON (every `<` escaped, so no
    string in it can close the script element)."""
    template = resources.files("gateroles.viewer").joinpath("viewer.html").read_text("utf-8")
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")
    head, marker, tail = template.partition("/*DATA*/")
    if not marker:
        raise RuntimeError("viewer.html has no /*DATA*/ marker")
    return head + payload + tail


def write(data: dict, path: str | Path) -> Path:
    """Write the page to `path` atomically (`storage.atomic_path`)."""
    path = Path(path)
    with storage.atomic_path(path) as tmp:
        tmp.write_text(render(data), encoding="utf-8")
    return path
