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


@dataclass(frozen=True)
class Settings:
    tasks: tuple[str, ...]  # `name@H` entries: the holds of each task swept
    architectures: tuple[str, ...]  # trained at every hold, default init
    lstm_inits: tuple[str, ...]  # the plain LSTM also under these init arms

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        c = config["learnability"]
        return cls(tasks=tuple(c["tasks"]), architectures=tuple(c["architectures"]),
                   lstm_inits=tuple(c["lstm_inits"]))

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
