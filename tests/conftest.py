"""Shared test helpers: a gate file built from synthetic arrays, and the tiny study run once."""

from types import SimpleNamespace

import numpy as np
import pytest
import yaml

from gateroles import gatefile
from gateroles.pipeline import RunInputs


def write_gate_file(path, factors: dict, gates_per_step: dict, *, tokens=None, inputs=None,
                    continuous=(), events=None, task="synthetic", memory=None,
                    contexts=None):
    """A gate file of synthetic gates; inputs default to one-hot `tokens` (default all 0)."""
    shape = next(iter(factors.values())).shape
    tokens = np.zeros(shape, dtype=np.int64) if tokens is None else tokens
    if inputs is None:
        inputs = np.eye(int(tokens.max()) + 1, dtype=np.float32)[tokens]
    meta = {"task": task, "kind": "classification", "n_outputs": 2, "chance": 0.5,
            "events": events or {}, "continuous_factors": list(continuous),
            "contexts": contexts or {},
            "behaviours": {}, "auxiliary_factors": [], "memory": memory}
    data = gatefile.data_arrays(inputs=inputs, tokens=tokens,
                                targets=np.zeros(shape, dtype=np.int64),
                                mask=np.ones(shape, dtype=bool), factors=factors, meta=meta)
    gatefile.write(str(path), data, gates_per_step)
    return RunInputs({"gates": str(path)})


@pytest.fixture
def gate_file(tmp_path):
    """`gate_file(factors, gates_per_step, **kw)` -> RunInputs of a fresh synthetic gate file."""
    counter = iter(range(1000))

    def make(factors, gates_per_step, **kwargs):
        return write_gate_file(tmp_path / f"gates{next(counter)}.npz", factors, gates_per_step,
                               **kwargs)
    return make


@pytest.fixture(scope="session")
def tiny_study(tmp_path_factory):
    """The tiny study (tests/test_workflow.py's TINY, every default written out) run once per
    session, locally, from a private copy of the workflow (`repo`: immune to edits of the
    checkout). tests/test_workflow.py and tests/test_robustness.py share it: a test that
    changes the study works on a copy of `local`, and one that edits the copy's code puts it
    back, contents and times (a newer file would rerun its jobs for the tests after it)."""
    from study_runs import copy_workflow, failure, full, snakemake
    from test_workflow import TINY

    root = tmp_path_factory.mktemp("tiny")
    repo = copy_workflow(root / "repo")
    config = root / "tiny.yaml"
    config.write_text(yaml.safe_dump(full(TINY)))
    local = root / "local"
    result = snakemake(repo, local, config, "--cores", "2", "-q", timeout=1800)
    assert result.returncode == 0, failure(result, local)
    return SimpleNamespace(root=root, repo=repo, config=config, local=local)


@pytest.fixture(scope="session")
def tiny_views(tiny_study):
    """Snakemake's views of the finished tiny study that tests of both files read, run in one
    process (study_runs.snakemake_each: the workflow's imports paid once): a dry run and the
    summary with its config, and dry runs with the same config in another key order and with
    the short config (no default written out)."""
    from study_runs import snakemake_each
    from test_workflow import TINY, _reversed_keys

    reordered, short = tiny_study.root / "reordered.yaml", tiny_study.root / "short.yaml"
    reordered.write_text(yaml.safe_dump(_reversed_keys(TINY), sort_keys=False))
    short.write_text(yaml.safe_dump(TINY))
    return snakemake_each(tiny_study.repo, tiny_study.local, {
        "dry run": (tiny_study.config, "-n"), "summary": (tiny_study.config, "--summary"),
        "reordered": (reordered, "-n"), "short": (short, "--cores", "2", "-n")})
