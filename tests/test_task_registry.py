"""The task registry: a new task is one new file (gateroles.tasks; CONTRIBUTING.md, "How to
add a task"). A toy task, written as one file (tests/data/toy_task.py), flows through the
registry's tables, config validation (its schema sections come from the registry) and the
workflow's dry run; a task that lacks what an analysis needs is an error naming both."""

import copy
import dataclasses
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from gateroles import tasks
from gateroles.config import ConfigError, load_schema, validate
from gateroles.tasks.core import TaskSpec

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "config" / "schema.yaml"
TOY = Path(__file__).parent / "data" / "toy_task.py"


@pytest.fixture
def toy():
    """The toy task's module, registered in this process for the test's duration."""
    spec = importlib.util.spec_from_file_location("toy_task", TOY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tasks.register(module.SPEC)
    yield module
    tasks.unregister(module.SPEC.name)


def _config(tasks_):
    """The default config on `tasks_`, with no C4 cells and no negative controls."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["study"]["tasks"] = tasks_
    config["wiring"].update(tasks=[], forget_bias_tasks=[])
    config["controls"]["tasks"] = []
    return config


def test_every_module_of_the_package_is_a_registered_task():
    folder = REPO / "src" / "gateroles" / "tasks"
    modules = sorted(p.stem for p in folder.glob("*.py") if p.stem not in ("__init__", "core"))
    assert sorted(tasks.TASK_NAMES) == modules
    assert [m.SPEC.name for m in tasks.BUILTIN] == list(tasks.TASK_NAMES)
    ids = [s.stream_id for s in tasks.specs()]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_a_registered_toy_task_is_in_every_table_and_the_schema(toy):
    name = "toy_recall"
    assert name in tasks.TASK_NAMES and tasks.EVENTS[name] == {"store": "is_store",
                                                             "query": "is_query"}
    assert tasks.NEEDS[name] == {"store": ("recall",), "query": ("recall",)}
    assert tasks.AUXILIARY_FACTORS[name] == ("recall",) and tasks.MEMORY[name] == "memory"
    task = tasks.make_task(name, 20, 50, seed=0)
    mask = task.mask
    assert task.name == name and mask.any() and (task.targets[mask] <= 3).all()
    np.testing.assert_array_equal(task.factors["recall"], mask)
    assert set(task.variables) == {"is_store", "is_query", "memory"}
    assert toy.SPEC.uses == ("training", "saturation", "dependence", "gradient_flow",
                             "event_locking", "decodability", "roles", "causal", "wiring",
                             "emergence", "holds")
    schema = load_schema(SCHEMA)["properties"]
    assert schema["task_params"]["properties"][name]["properties"]["n_values"]["default"] == 3
    assert schema["training"]["properties"]["steps"]["properties"][name]["default"] == 60
    # the config takes it anywhere a task goes, with its defaults filled in
    config = validate(_config(["reset_recall", name]), SCHEMA)
    assert config["task_params"][name] == {"n_values": 3, "p_store": 0.2, "p_query": 0.2}
    assert config["training"]["steps"][name] == 60
    with pytest.raises(ConfigError, match=r"task_params.toy_recall.*p_store.*sum"):
        validate(_config([name]) | {"task_params": {name: {"p_store": 0.9}}}, SCHEMA)
    # no hold parameter: no `toy_recall@H`
    with pytest.raises(ConfigError, match="'toy_recall' has no hold parameter"):
        validate(_config([f"{name}@10"]), SCHEMA)


def test_a_task_that_lacks_what_an_analysis_needs_is_an_error_naming_both(toy):
    with pytest.raises(ValueError, match="'toy_recall' lacks a hold parameter.*learnability "
                                         "analysis needs.*hold_recall"):
        tasks.require("toy_recall", "learnability")
    with pytest.raises(ValueError, match="'adding' lacks a store and a query event "
                                         "\\(events\\), which the holds analysis needs"):
        tasks.require("adding", "holds")
    tasks.require("toy_recall", "causal")
    tasks.require("hold_recall@300", "learnability")
    with pytest.raises(ValueError, match="unknown analysis 'nope'"):
        tasks.require("toy_recall", "nope")
    config = _config(["reset_recall", "toy_recall"])
    config["learnability"] = {"tasks": ["hold_recall@5", "toy_recall"]}
    with pytest.raises(ConfigError, match=r"config key 'learnability.tasks': task 'toy_recall' "
                                          r"lacks a hold parameter.*learnability analysis"):
        validate(config, SCHEMA)


@pytest.mark.parametrize(("change", "message"), [
    ({"needs": {"reset": ("recall",)}}, "causal's needs name role 'reset', which is not one "
                                        "of the task's events"),
    ({"needs": {"store": ("recal",)}}, "needs\\['store'\\] name behaviour 'recal', which the "
                                       "task lacks"),
    ({"dissociations": {"forget": (("recall",), ("nope",))}}, "wiring's forget dissociation "
                                                              "names behaviour 'nope'"),
    ({"events": {"erase": "is_store"}}, "unknown role\\(s\\) \\['erase'\\]"),
    ({"name": "toy@3"}, "a task name is lower case"),
])
def test_a_declaration_that_does_not_fit_together_fails_when_the_module_loads(toy, change,
                                                                               message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(toy.SPEC, **change)


def test_a_name_or_stream_taken_is_refused(toy):
    with pytest.raises(ValueError, match="registered already"):
        tasks.register(toy.SPEC)
    with pytest.raises(ValueError, match="stream_id 1 .*no other task has"):
        tasks.register(dataclasses.replace(toy.SPEC, name="toy_two", stream_id=1))
    with pytest.raises(TypeError, match="TaskSpec"):
        tasks.register({"name": "x"})
    assert isinstance(toy.SPEC, TaskSpec)


@pytest.mark.slow
def test_a_task_added_as_one_file_flows_through_the_workflow(tmp_path):
    """Copy the project, add the toy's file to `gateroles/tasks/` (nothing else), and dry-run
    a study of it: the config validates and every stage plans its jobs."""
    project = tmp_path / "project"
    for part in ("config", "workflow", "src", "profiles", "envs"):
        shutil.copytree(REPO / part, project / part,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(REPO / "Snakefile", project)
    shutil.copy(TOY, project / "src" / "gateroles" / "tasks" / "toy_recall.py")
    config = copy.deepcopy(yaml.safe_load((REPO / "config" / "config.yaml").read_text()))
    config["study"].update(tasks=["toy_recall", "hold_recall@5"], architectures=["lstm"],
                           seeds=[0])
    config["controls"]["tasks"] = ["toy_recall"]
    config["wiring"].update(tasks=[], forget_bias_tasks=[])
    (project / "toy.yaml").write_text(yaml.safe_dump(config))

    def dry_run(*args):
        return subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile",
                               "toy.yaml", "--replace-workflow-config", *args], cwd=project,
                              env={**os.environ, "PYTHONPATH": str(project / "src")},
                              capture_output=True, text=True, timeout=600)

    result = dry_run()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout + result.stderr
    for path in ("results/runs/toy_recall/lstm/default/seed0/test.json",
                 "results/runs/toy_recall/lstm/default/causal/matrix.csv",
                 "results/runs/toy_recall/lstm_nig/default/seed0/test.json",
                 "results/runs/hold_recall@5/lstm/default/seed0/gates.npz"):
        assert path in out, path
    # the same study without the file: the config names the task and what there is
    (project / "src" / "gateroles" / "tasks" / "toy_recall.py").unlink()
    result = dry_run()
    assert result.returncode != 0
    assert "unknown task 'toy_recall'" in result.stdout + result.stderr
