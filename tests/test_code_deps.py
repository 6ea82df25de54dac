"""Each rule's library inputs are derived from imports (gateroles.code_deps): complete and exact."""

import json
import os
import subprocess
import sys

from gateroles import code_deps
from gateroles.analyses import declare
from gateroles.analyses.registry import ANALYSES

# Every module a workflow job runs (the `lib(...)` of each rule): the analyses' from their
# declarations, and the shared stages'.
JOB_MODULES = ["gateroles.training", "gateroles.extraction", "gateroles.report",
               *[module for analysis in declare.load(ANALYSES).values()
                 for module in analysis.modules()],
               "gateroles.analyses.wiring.rewire", "gateroles.analyses.learnability.measure",
               # a user's own model (workflow/rules/user_model.smk)
               *[f"gateroles.own_model.{part}" for part in ("measure", "figures", "report")],
               # the viewers (workflow/rules/viewer.smk, user_model.smk)
               "gateroles.viewer.study", "gateroles.viewer.user"]
# Job modules that train, rebuild the models from their checkpoints (not only the gate file) or
# run them (interventions): their code does depend on gateroles.models.
MODEL_JOBS = ("gateroles.training", "gateroles.analyses.training.aggregate",
              "gateroles.analyses.gradient_flow.measure", "gateroles.analyses.causal.measure",
              "gateroles.analyses.wiring.rewire", "gateroles.analyses.wiring.behaviour",
              # C7 replays the first steps of training; the learnability sweep trains
              "gateroles.analyses.emergence.measure", "gateroles.analyses.learnability.measure",
              "gateroles.viewer.study")


# The third-party packages the job modules import, loaded once before the interpreter forks a
# child per job module: they load no gateroles module, so each child loads exactly the
# gateroles modules its job module does, without paying torch's import 38 times.
PRELOADED = ("numpy", "pandas", "scipy.special", "scipy.spatial", "torch", "sklearn",
             "matplotlib.pyplot", "seaborn")
LOADED = """
import importlib, json, os, sys
for name in sys.argv[2:]:
    importlib.import_module(name)
assert not [name for name in sys.modules if name.startswith("gateroles")]
found = {}
for module in json.loads(sys.argv[1]):
    read, write = os.pipe()
    if (pid := os.fork()) == 0:  # the child: import the job module, report, and exit
        status = 1
        try:
            importlib.import_module(module)
            loaded = sorted(name for name in sys.modules if name.startswith("gateroles"))
            os.write(write, json.dumps(loaded).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write)
    with os.fdopen(read) as pipe:
        found[module] = json.loads(pipe.read() or "null")
    assert os.waitpid(pid, 0)[1] == 0, f"importing {module} failed"
print(json.dumps(found))
"""


def test_every_gateroles_module_a_job_loads_is_a_declared_input():
    """Import each job module in a fresh process (a child forked from an interpreter that has
    loaded only PRELOADED): every gateroles module it loads is in its derived list."""
    run = subprocess.run([sys.executable, "-c", LOADED, json.dumps(JOB_MODULES), *PRELOADED],
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "MPLBACKEND": "Agg"})
    assert run.returncode == 0, run.stderr[-3000:]
    outputs = json.loads(run.stdout)
    assert list(outputs) == JOB_MODULES
    for module, loaded in outputs.items():
        assert module in loaded, module  # the child did import it
        missing = set(loaded) - set(code_deps.modules(module))
        assert not missing, f"{module} loads {sorted(missing)} but does not declare them"


def test_imports_inside_functions_and_relative_imports_count(tmp_path, monkeypatch):
    """`information` needs `probes` only inside a function of the dependence measure: an edit
    to probes.py must still rerun it (the bug this module fixes)."""
    deps = code_deps.modules("gateroles.analyses.dependence.measure")
    assert {"gateroles.probes", "gateroles.information", "gateroles.disentanglement",
            "gateroles.analyses.dependence", "gateroles.analyses", "gateroles"} <= set(deps)
    assert "gateroles.training" not in deps and "gateroles.models" not in deps


def test_analyses_do_not_depend_on_training_code():
    """Editing a model or the training loop must not rerun every analysis's code dependency
    (their data dependency, the gate file, reruns them when the gates change)."""
    for module in JOB_MODULES:
        if ".analyses." in module and module not in MODEL_JOBS:
            assert "gateroles.models" not in code_deps.modules(module), module


def test_library_inputs_are_relative_to_a_project_that_holds_the_package(monkeypatch, tmp_path):
    """Inside the project (a clone with an editable install) the paths do not name where the
    project lies, so moving it reruns nothing; outside it they are absolute, and both exist."""
    package_parent = code_deps.ROOT.parent
    monkeypatch.chdir(package_parent)
    inside = code_deps.files("gateroles.training")
    assert all(not os.path.isabs(path) and os.path.exists(path) for path in inside)
    assert "gateroles/training.py" in inside
    monkeypatch.chdir(tmp_path)
    outside = code_deps.files("gateroles.training")
    assert all(os.path.isabs(path) and os.path.exists(path) for path in outside)
    assert [os.path.join(package_parent, path) for path in inside] == outside
