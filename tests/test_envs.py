"""The conda environments (`--sdm conda`) pin the same versions as pyproject.toml."""

import re
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
ENVS = sorted((REPO / "envs").glob("*.yaml"))
# Provided by the Snakemake process that runs the jobs, not by the jobs' environment.
NOT_IN_JOB_ENVS = {"snakemake"}


def name_of(requirement: str) -> str:
    return re.split(r"[\[=<>!~ ]", requirement, maxsplit=1)[0].strip().lower()


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + [
        r for extra in project["optional-dependencies"].values() for r in extra]
    pins = {}
    for requirement in requirements:
        assert "==" in requirement, f"pyproject.toml: {requirement} is not pinned"
        pins[name_of(requirement)] = requirement.split("==")[1].strip()
    return pins


def env_pins(path: Path) -> tuple[dict[str, str], str | None]:
    """(package -> version, python version) of a conda environment file."""
    pins, python = {}, None
    for dep in yaml.safe_load(path.read_text())["dependencies"]:
        entries = dep["pip"] if isinstance(dep, dict) else [dep]
        for entry in entries:
            if entry.startswith(("-e", "/", ".")):
                continue  # the project itself
            name = name_of(entry)
            version = re.split(r"==|=", entry, maxsplit=1)[1] if "=" in entry else None
            if name == "python":
                python = version
            elif name != "pip":
                assert version, f"{path.name}: {entry} is not pinned"
                pins[name] = version
    return pins, python


def test_there_is_an_environment():
    assert ENVS, "no envs/*.yaml"


@pytest.mark.parametrize("path", ENVS, ids=[p.name for p in ENVS])
def test_environment_is_a_well_formed_conda_file(path):
    """What `conda env create --file` reads: named channels, then conda packages as strings
    and at most one `pip:` list (with `pip` itself among the conda packages)."""
    env = yaml.safe_load(path.read_text())
    assert set(env) <= {"name", "channels", "dependencies"} and env["dependencies"], path.name
    assert env["channels"] and all(isinstance(c, str) for c in env["channels"]), path.name
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    sections = [d for d in env["dependencies"] if not isinstance(d, str)]
    assert all(isinstance(d, dict) and list(d) == ["pip"] for d in sections), sections
    assert len(sections) <= 1 and (not sections or "pip" in conda), path.name
    assert all(isinstance(entry, str) for d in sections for entry in d["pip"]), path.name


@pytest.mark.parametrize("path", ENVS, ids=[p.name for p in ENVS])
def test_environment_pins_agree_with_pyproject(path):
    expected = pyproject_pins()
    pins, python = env_pins(path)
    for name, version in pins.items():
        assert name in expected, f"{path.name}: {name} is not a dependency in pyproject.toml"
        assert version == expected[name], (f"{path.name}: {name}=={version} but pyproject.toml "
                                           f"pins {expected[name]}")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = {name_of(r) for r in project["dependencies"]} - NOT_IN_JOB_ENVS
    if path.name == "gateroles.yaml":
        assert runtime <= set(pins), f"missing from {path.name}: {sorted(runtime - set(pins))}"
    minimum = project["requires-python"].removeprefix(">=")
    assert python and tuple(map(int, python.split("."))) >= tuple(map(int, minimum.split(".")))


def test_rules_use_an_existing_environment():
    for rules in (REPO / "workflow" / "rules").glob("*.smk"):
        for env in re.findall(r'"(\.\./\.\./envs/[^"]+)"', rules.read_text()):
            assert (rules.parent / env).resolve().exists(), f"{rules.name}: {env}"
