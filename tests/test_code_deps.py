"""Each rule's library inputs are derived from imports (gateroles.code_deps): complete and exact."""

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

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


def test_every_gateroles_module_a_job_loads_is_a_declared_input():
    """Import each job module in a fresh interpreter: every gateroles module it loads is in
    its derived list (one interpreter per core at a time)."""
    code = ("import sys, json, importlib; importlib.import_module(sys.argv[1]); "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('gateroles'))))")
    def loaded(module):
        return subprocess.run([sys.executable, "-c", code, module], check=True,
                              capture_output=True, text=True, timeout=120).stdout

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        outputs = dict(zip(JOB_MODULES, pool.map(loaded, JOB_MODULES), strict=True))
    for module, out in outputs.items():
        missing = set(json.loads(out)) - set(code_deps.modules(module))
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
