# Config validation (at parse time), the study grid and path helpers.
import itertools

from gateroles.config import validate

validate(config, REPO / "config" / "schema.yaml")

ENV = "../../envs/gateroles.yaml"
RUN = "{task}/{arch}/{init}/seed{seed}"


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


def log(name, per_run_job=True):
    return f"results/logs/{name}/{RUN}.log" if per_run_job else f"results/logs/{name}.log"


def bench(name, per_run_job=True):
    return f"results/benchmarks/{name}/{RUN}.tsv" if per_run_job else f"results/benchmarks/{name}.tsv"


def sections(*names):
    """The config sections a job depends on (params: a change to them reruns its jobs)."""
    return {name: config[name] for name in names}


# What the report reads. Each rules file registers its own tables, figures and per-model
# rules (for the runtime table), so adding an analysis does not mean editing the report rule.
REPORT_TABLES = {}
REPORT_FIGURES = {}
PER_MODEL_RULES = []
SINGLE_RULES = []


def benchmark_files():
    """Benchmark files of every job upstream of the report (runtime of each step)."""
    files = [f for name in PER_MODEL_RULES for f in per_run(bench(name))]
    return files + [bench(name, per_run_job=False) for name in SINGLE_RULES]


def report_inputs(wildcards):
    return {**REPORT_TABLES, **REPORT_FIGURES, "benchmarks": benchmark_files()}
