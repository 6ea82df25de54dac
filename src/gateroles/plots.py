"""What every analysis's figures share: style, colours, saving, and small helpers.

Each analysis draws its own figures (`gateroles.analyses.<name>.figures`); this module holds
only what they have in common. Conventions: seeds are thin lines or points; means over solved
seeds with 95% bootstrap bands are thick. GRU update gate z is shown in PyTorch's convention
(z near 1 keeps the state).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from collections.abc import Mapping  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from gateroles import stats  # noqa: E402
from gateroles.tasks import TASK_NAMES, TaskTable, parse_name  # noqa: E402

GATE_COLOURS = {"input": "#1b9e77", "forget": "#d95f02", "output": "#7570b3",
                "reset": "#e7298a", "update": "#66a61e"}
# One colour per registered task; a `name@H` task takes its task's colour, lighter the shorter
# its hold (mixed with white by 0.6 x (1 - log10(H) / 3), H clipped to 1..1000), so the holds of
# one sweep are told apart in a figure that overlays tasks.
_PALETTE = sns.color_palette("colorblind", 10)
_BASE_COLOURS = TaskTable(lambda spec: _PALETTE[list(TASK_NAMES).index(spec.name) % 10])


class _TaskColours(Mapping):
    def __getitem__(self, name):
        colour = _BASE_COLOURS[name]
        try:
            hold = parse_name(name)[1]
        except ValueError:
            raise KeyError(name) from None
        if hold is None:
            return colour
        white = 0.6 * (1 - min(np.log10(hold), 3.0) / 3.0)
        return tuple(float((1 - white) * c + white) for c in colour)

    def __iter__(self):
        return iter(_BASE_COLOURS)

    def __len__(self):
        return len(_BASE_COLOURS)


TASK_COLOURS = _TaskColours()
sns.set_theme(context="paper", style="whitegrid", font_scale=1.2)


def save(fig: plt.Figure, png: str, pdf: str) -> None:
    """PNG (for the report) and PDF (for a paper), written atomically."""
    from gateroles.storage import atomic_path

    for path, fmt in ((png, "png"), (pdf, "pdf")):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=130, bbox_inches="tight",
                        metadata={"CreationDate": None} if fmt == "pdf" else {"Software": None})
    plt.close(fig)


def no_data(message: str) -> plt.Figure:
    """A placeholder figure that says why there is nothing to show."""
    fig, ax = plt.subplots(figsize=(6, 2))
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    return fig


def mean_band(frame: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Per x: mean over seeds and its bootstrap CI."""
    rows = []
    for value, group in frame.groupby(x):
        mean, lo, hi = stats.bootstrap_ci(group[y], n_boot=1000)
        rows.append({x: value, "mean": mean, "lo": lo, "hi": hi})
    return pd.DataFrame(rows)


def select(frame: pd.DataFrame, values: dict) -> pd.DataFrame:
    """Rows whose columns equal `values`."""
    keep = np.ones(len(frame), dtype=bool)
    for column, value in values.items():
        keep &= (frame[column] == value).to_numpy()
    return frame[keep]


def step_axis(ax, max_step: float) -> None:
    """Steps on a symlog axis (step 0 and late checkpoints both show), plain tick labels."""
    ax.set_xscale("symlog", linthresh=25)
    ticks = [t for t in (0, 25, 100, 400, 1600, 6400) if t <= max_step * 1.05] or [0]
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xlim(0, max(max_step, 25) * 1.1)


def final_at_end(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Each seed's last checkpoint moved to one shared x position `end` (seeds stop at
    different steps, so averaging by raw step would leave one-seed tails)."""
    before = frame.loc[frame["step"] < frame["final_step"], "step"]
    end = int(2 * max(before.max() if len(before) else 25, 25))
    return frame.assign(step=frame["step"].where(frame["step"] < frame["final_step"], end)), end


def end_ticks(ax, end: int) -> None:
    ticks = [t for t in (0, 25, 100, 400, 1600, 6400) if t < end / 3] + [end]
    ax.set_xticks(ticks, [str(t) for t in ticks[:-1]] + ["end"])


def legend_right(source, target, fontsize: float = 9) -> None:
    """The legend of axis `source` drawn to the right of axis `target` (the last of a row)."""
    handles, labels = source.get_legend_handles_labels()
    target.legend(handles, labels, fontsize=fontsize, loc="center left",
                  bbox_to_anchor=(1.02, 0.5), frameon=False)
