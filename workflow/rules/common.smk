# Config validation (at parse time), the study grid and path helpers.
import itertools

from gateroles.config import validate

validate(config, REPO / "config" / "schema.yaml")

ENV = "../../envs/gateroles.yaml"
RUN = "{task}/{arch}/{init}/seed{seed}"
RUNS_DIR = "results/runs/" + RUN


wildcard_constraints:
    task="|".join(config["study"]["tasks"]),
    arch="lstm|gru",
    init="default|forget_bias_1|chrono",
    seed=r"\d+",


def runs():
    """Every (task, arch, init, seed) of the study grid as a wildcard dict."""
    s = config["study"]
    for task, arch, init, seed in itertools.product(
        s["tasks"], s["architectures"], s["inits"], s["seeds"]
    ):
        yield {"task": task, "arch": arch, "init": init, "seed": seed}


def per_run(pattern):
    """`pattern` (with RUN wildcards) expanded over the whole grid."""
    return [pattern.format(**run) for run in runs()]


def lib(*modules):
    """Library source files as inputs, so a change to the logic reruns what depends on it."""
    return [str(REPO / "src" / "gateroles" / f"{m}.py") for m in modules]


def log(rule, per_run_job=True):
    return f"results/logs/{rule}/{RUN}.log" if per_run_job else f"results/logs/{rule}.log"


def bench(rule, per_run_job=True):
    return f"results/benchmarks/{rule}/{RUN}.tsv" if per_run_job else f"results/benchmarks/{rule}.tsv"


def sections(*names):
    """The config sections a rule depends on (params: a change to them reruns the rule)."""
    return {name: config[name] for name in names}
