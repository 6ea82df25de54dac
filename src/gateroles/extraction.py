"""The extraction stage: one model's gates at every checkpoint, written to its gate file.

The gates are recomputed from each checkpoint's weights (`gateroles.gates.extract`) on the
first `extraction.n_sequences` test sequences, which the gate file carries along with their
targets, mask and task variables (`gateroles.gatefile`), so that no later stage regenerates
the task.
"""

from __future__ import annotations

from gateroles import gatefile, gates, storage
from gateroles.models import models_from_payload
from gateroles.study import Run
from gateroles.training import DataSettings


def extract_run(config: dict, run: Run, *, checkpoints_path: str, gates_path: str,
                logits: bool = True) -> None:
    """Write the gate file of `run`: every checkpoint, and with `logits` the sigmoid gates'
    logits (the workflow asks for them only where an analysis reads them: a third of the
    file)."""
    payload = storage.load_torch(checkpoints_path)
    test = DataSettings.from_config(config).splits(run.task, run.seed)["test"]
    n_sequences = config["extraction"]["n_sequences"]
    data = gatefile.task_arrays(test, n_sequences)
    per_step = {step: gates.extract(model, data["inputs"], preactivations=logits)
                for step, model in models_from_payload(payload).items()}
    gatefile.write(gates_path, data, per_step)
