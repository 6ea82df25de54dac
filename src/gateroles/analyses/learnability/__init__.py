"""The highway, functionally (claim C6): the longest hold each architecture learns.

For each task with a hold in `learnability.tasks` (its holds: the `name@H` entries, swept from
the shortest), every architecture of `learnability.architectures` (default init) and the plain
LSTM under each arm of `learnability.lstm_inits` trains on the task at each hold, every seed
apart, from the shortest hold up; a seed's sweep stops at the first hold it does not learn (the
longer ones are not trained: harder holds are assumed no easier). A model *learns* a hold when
its validation score passes the task's threshold (`training.solved_threshold`) within the
task's budget (`training.steps`, per architecture where the config says; both may be given per
`name@H`): training stops at that check (early stopping: learnability asks only whether).

Per seed, the *reach* is the position in the sweep of the longest hold learned (0: not even the
shortest; the holds are listed in steps beside it); per architecture, the longest hold that
every seed learned.

Primary predictions (`PREDICTIONS`), per task, paired by seed (the same data and batch order):
a learned forget gate learns longer holds than the same LSTM with its forget gate held at 0.5
in training (`lstm_ffg`), and than the tanh RNN: the per-seed difference in reach is above 0.
There is no step 0 to compare with (a reach is a property of training), so each is decided on
the trained difference against 0. Negative control (`CONTROL`): the same comparison with the
learned forget gate replaced by one that never learns when to erase, the LSTM without a forget
gate (`lstm_nfg`: f = 1, Hochreiter & Schmidhuber's carousel). If it also reaches longer holds
than the held-at-0.5 LSTM or the RNN, keeping (f near 1) explains the reach, not a forget gate
that learned when to keep and when to erase, and the prediction is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateroles.architectures import ARCHITECTURES
from gateroles.settings import from_section, setting

# Prediction -> (the architecture the learned LSTM is compared with, in words, the rival).
PREDICTIONS = {
    "lstm_ffg": ("a learned forget gate learns longer holds than one held at 0.5",
                 "the forget gate's learning adds nothing: the LSTM with f held at 0.5 reaches "
                 "as far"),
    "rnn": ("a learned forget gate learns longer holds than the tanh RNN",
            "any recurrent net reaches as far: the tanh RNN does too"),
}
LEARNED = "lstm"  # the architecture whose forget gate is learned (default init)
# The negative control: the learned forget gate replaced by one that keeps and never learns.
CONTROL = "lstm_nfg"
CONTROL_NAME = ("lstm_nfg in place of lstm (forget gate held at 1 in training: a carousel that "
                "keeps and never learns when to erase)")
EVIDENCE = "the longest hold learned"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Claim C6, the highway functionally (gateroles.analyses.learnability): each architecture
    trained on a task at each hold of a sweep, every seed from the shortest hold up until its
    first hold not learned (validation score past training.solved_threshold within
    training.steps, training stopped there); the longest hold each learns with every seed, and
    "a learned forget gate learns longer holds than one held at 0.5 and than the tanh RNN"
    beside its negative control (lstm_nfg in the learned LSTM's place). Its own models (no
    checkpoints kept); empty tasks: no learnability analysis."""

    tasks: tuple[str, ...] = setting(
        (), "The sweep: entries name@H of tasks with a hold (e.g. hold_recall@5, "
        "hold_recall@15, hold_recall@45), each task swept over its entries from the shortest "
        "hold; they need not be in study.tasks. Their budgets and thresholds are training.steps "
        "and training.solved_threshold of name@H, else of name.",
        items={"$ref": "#/definitions/task"}, uniqueItems=True)
    architectures: tuple[str, ...] = setting(
        ("lstm", "lstm_ffg", "lstm_nfg", "gru", "rnn"), "Trained at every hold, default init. "
        "The predictions compare lstm with lstm_ffg and rnn; lstm_nfg is their negative "
        "control; others (gru) are shown.", items={"enum": list(ARCHITECTURES)},
        uniqueItems=True)
    lstm_inits: tuple[str, ...] = setting(
        ("forget_bias_1", "chrono"), "The plain LSTM also swept under these initialisation "
        "arms (shown, not tested): forget_bias_1 (Jozefowicz et al. 2015), chrono (Tallec & "
        "Ollivier 2018; T_max the sequence length).",
        items={"enum": ["forget_bias_1", "chrono"]}, uniqueItems=True)

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        return from_section(cls, config["learnability"])

    def sweeps(self) -> dict[str, list[str]]:
        """Task -> its `name@H` entries, shortest hold first."""
        from gateroles.tasks import parse_name

        out: dict[str, list[tuple[int, str]]] = {}
        for name in self.tasks:
            base, hold = parse_name(name)
            out.setdefault(base, []).append((hold, name))
        return {base: [name for _, name in sorted(entries)] for base, entries in out.items()}

    def arms(self) -> list[tuple[str, str]]:
        """(architecture, init) of every sweep: the architectures at default init, then the
        plain LSTM under each extra arm."""
        return ([(arch, "default") for arch in self.architectures]
                + [("lstm", init) for init in self.lstm_inits if init != "default"])
