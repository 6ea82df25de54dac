"""An offline viewer of every gate on real sequences: one self-contained HTML page.

The report shows averages; the viewer shows single held-out sequences. For a chosen model
(task, architecture, init, seed), checkpoint and gate (or state): a heatmap of units x steps
with the input tokens written under it and the task's events marked, units ordered by unit
index, by how well each carries the task's memory variable (`roles.measure.memory_score`) or by
its response to an event (`causal.measure.event_response`); the values on hover; one unit's
gates, cell and hidden state as lines over time on click. A second panel shows, on the same
sequence, another checkpoint of the model (step 0 against trained), another model (LSTM against
GRU, a variant or a negative control) or the model under a perturbation: the study's C3
perturbations (`causal.measure.conditions`: each gate's matched interchange at every role's
events, the lag-matched quiet control, the role-off clamp), with the perturbed steps and gate
marked and the behaviours' scores before and after (on the shown sequences, and over the
study's sequences from the C3 table).

- `viewer.page`: the page and its compact data (torch-free);
- `viewer.study`: the study's viewer, one job over the checkpoints it needs (their gate files made
  one at a time; `workflow/rules/viewer.smk`, `results/viewer.html`, linked from the report);
- `viewer.user`: the same page from a lens run on a user's own model (`user.from_lens`, and
  the `user_model_viewer` rule beside the user model's report). It is not imported here, so
  that the study's viewer job does not depend on it (`code_deps`).

What the study's viewer carries (config `viewer`, sized so that the default study's report
and viewer stay within 25 MB): `sequences` held-out sequences per task and seed (the same ones
for every architecture of that seed, so models compare on the same input), `checkpoints` per
model (step 0, the last, and evenly spaced ones between), the first `seeds` seeds of the main
grid (default every one) and the first `other_seeds` seeds of the other cells (claim C4's
variants, the negative controls), and the C3 perturbations of the main grid's models at their
last checkpoint on the first `perturbed_sequences` shown sequences.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateroles.settings import from_section, setting
from gateroles.study import Run, cells, control_cells


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The offline viewer of every gate on held-out sequences (gateroles.viewer):
    results/viewer.html, linked from the report. What it carries; the default keeps the default
    study's report and viewer within 25 MB."""

    sequences: int = setting(
        2, "Held-out sequences shown per task and seed (the extracted ones where the most kinds "
        "of event, behaviour and context occur); every architecture of that seed shows the "
        "same ones.", minimum=1, maximum=50)
    checkpoints: int = setting(
        3, "Checkpoints shown per model: step 0, the last, and evenly spaced ones between "
        "(every checkpoint when the model has fewer).", minimum=1, maximum=100)
    perturbed_sequences: int = setting(
        1, "The C3 perturbations (every gate's matched interchange at each role's events, the "
        "lag-matched quiet control, the role-off clamp) of the main grid's models at their "
        "last checkpoint, on the first this many shown sequences; 0: none.", minimum=0,
        maximum=50)
    seeds: int | None = setting(
        None, "Seeds shown of the main grid: the first this many of study.seeds; null: every "
        "seed.", minimum=1)
    other_seeds: int = setting(
        1, "Seeds shown of the cells beyond the main grid (claim C4's variants, the negative "
        "controls): the first this many of study.seeds.", minimum=0, maximum=1000)

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        return from_section(cls, config["viewer"])


def shown(config: dict) -> list[tuple[Run, bool]]:
    """The models the study's viewer shows, in grid order, each with whether its C3
    perturbations are shown: the first `viewer.seeds` seeds of the main grid (every seed by
    default; perturbed), the first `viewer.other_seeds` seeds of every other cell."""
    settings = Settings.from_config(config)
    seeds = config["study"]["seeds"]
    main = cells(config, main_only=True)
    out = []
    for cell in dict.fromkeys(cells(config) + control_cells(config)):
        is_main = cell in main
        kept = seeds[:settings.seeds] if is_main else seeds[:settings.other_seeds]
        for run in cell.runs(kept):
            out.append((run, is_main and settings.perturbed_sequences > 0))
    return out

