"""Study configuration: JSON-schema validation with defaults, plus the checks a schema can't say.

`validate(config, schema_path)` runs when the workflow is parsed, so a bad config fails before
any job starts, with one line per problem naming the key (`training.checkpoints[3]`) and what
is allowed.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import pkgutil
import re
from pathlib import Path

import yaml
from jsonschema import Draft7Validator, validators

from gateroles import analyses, tasks, viewer
from gateroles.architectures import controlled_roles
from gateroles.settings import declared, section_schema

# Config keys that list the tasks one analysis runs on -> that analysis: each task must declare
# what the analysis needs (`tasks.require`), or the config fails naming the task, the analysis
# and what is missing.
ANALYSIS_TASK_LISTS = {"wiring.tasks": "wiring", "learnability.tasks": "learnability"}
# Config sections renamed to the analysis that reads them: an old name fails naming the new one.
RENAMED = {"probes": "decodability", "information": "dependence", "events": "event_locking",
           "gradients": "gradient_flow"}


class ConfigError(ValueError):
    """The configuration is invalid; the message names every offending key."""


def _with_defaults(validator_class):
    """A validator that fills in each property's `default` before validating it."""
    check_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema:
                    instance.setdefault(name, copy.deepcopy(subschema["default"]))
        yield from check_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


DefaultFillingValidator = _with_defaults(Draft7Validator)


def key_path(path) -> str:
    """`['study', 'tasks', 0]` -> `study.tasks[0]`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _describe(error) -> str:
    where = key_path(error.absolute_path)
    message = error.message
    if error.validator == "additionalProperties":
        allowed = ", ".join(sorted(error.schema.get("properties", {}))) or "none"
        message += f"; allowed keys here: {allowed}"
    elif error.validator == "pattern" and error.schema.get("pattern") == tasks.name_pattern():
        try:  # a task name: say which names there are
            tasks.parse_name(error.instance)
        except ValueError as exc:
            message = str(exc)
    elif error.validator == "anyOf":
        # Say why each alternative failed (e.g. "0 is less than the minimum of 1").
        reasons = sorted({sub.message for sub in error.context})
        message += "; allowed: " + " or ".join(reasons)
    return f"config key '{where}': {message}"


def load_schema(path: str | Path) -> dict:
    """The config schema: the YAML file, with its per-task parts filled in from the task
    registry (`gateroles.tasks`), a section per typed `Settings` that declares one
    (`settings_sections`), and every `$ref` to its `definitions` inlined."""
    with open(path) as fh:
        schema = _with_settings(_with_tasks(yaml.safe_load(fh)))
    return _inline(schema, schema["definitions"])


def settings_sections() -> dict[str, type]:
    """Config section -> the typed `Settings` whose fields declare its keys
    (`gateroles.settings`): every analysis with settings, under the analysis's name (a new
    analysis's section needs no line elsewhere), and the viewer."""
    found = {}
    for info in pkgutil.iter_modules(analyses.__path__):
        if not info.ispkg:  # the registry and the declarations' vocabulary
            continue
        module = importlib.import_module(f"{analyses.__name__}.{info.name}")
        if declared(module.Settings):
            found[info.name] = module.Settings
    return {**found, "viewer": viewer.Settings}


def _with_settings(schema: dict) -> dict:
    """The schema with one section per `settings_sections()`, made from its declarations."""
    props = schema["properties"]
    for name, cls in settings_sections().items():
        if name in props:
            raise ValueError(f"config section {name!r} is declared twice: in the schema file "
                             f"and by {cls.__module__}.{cls.__qualname__}")
        props[name] = section_schema(cls)
    return schema


def _with_tasks(schema: dict) -> dict:
    """Fill the schema's task lists and per-task sections from the registry: the task name
    pattern (`definitions.task`), `task_params` (each task's parameters), `training.steps`
    and `training.solved_threshold` (each task's default and how it was measured; `name@H`
    keys of the tasks with a hold)."""
    schema = copy.deepcopy(schema)
    definitions = schema["definitions"]
    definitions["task"]["pattern"] = tasks.name_pattern()
    props = schema["properties"]
    params = props["task_params"]["properties"]
    training = props["training"]["properties"]
    steps, thresholds = training["steps"], training["solved_threshold"]
    budget = definitions["budget"]
    for spec in tasks.specs():
        params[spec.name] = {"description": spec.description, "type": "object",
                             "additionalProperties": False, "default": {},
                             "properties": {k: p.schema() for k, p in spec.params.items()}}
        steps["properties"][spec.name] = {"description": spec.steps.description, **budget,
                                          "default": copy.deepcopy(spec.steps.value)}
        threshold = {"description": spec.threshold.description, "type": "number",
                     "exclusiveMinimum": 0, "maximum": spec.threshold.maximum}
        thresholds["properties"][spec.name] = {**threshold, "default": spec.threshold.value}
        if spec.has_hold:
            held = f"^{re.escape(spec.name)}@[1-9][0-9]*$"
            steps.setdefault("patternProperties", {})[held] = dict(budget)
            thresholds.setdefault("patternProperties", {})[held] = threshold
    return schema


def _inline(node, definitions: dict):
    """`node` with every `{"$ref": "#/definitions/<name>"}` replaced by that definition."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref is not None:
            return _inline(definitions[ref.removeprefix("#/definitions/")], definitions)
        return {k: _inline(v, definitions) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, definitions) for v in node]
    return node


def validate(config: dict, schema_path: str | Path) -> dict:
    """Fill defaults into `config` in place and check it; raise ConfigError naming each key."""
    if not isinstance(config, dict):
        raise ConfigError(f"the config must be a mapping of keys, got {type(config).__name__}")
    renamed = [f"config key '{old}' is now '{new}' (sections are named after their analysis)"
               for old, new in RENAMED.items() if old in config]
    if renamed:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(renamed))
    schema = load_schema(schema_path)
    errors = sorted(DefaultFillingValidator(schema).iter_errors(config),
                    key=lambda e: list(map(str, e.absolute_path)))
    problems = [_describe(e) for e in errors]
    if not problems:
        problems = _semantic_problems(config) + user_model_problems(config.get("user_model"))
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
    return config


def _semantic_problems(config: dict) -> list[str]:
    """Checks across keys, run once the schema holds."""
    problems = []
    data = config["data"]
    n_extract = config["extraction"]["n_sequences"]
    if n_extract > data["n_test"]:
        problems.append(f"config key 'extraction.n_sequences': {n_extract} is more than the "
                        f"test split has (data.n_test = {data['n_test']})")
    # Analyses read the gate file's sequences: asking for more would silently use fewer (and
    # the report would state the number asked for).
    extracted = f"the extracted sequences (extraction.n_sequences = {n_extract})"
    at_most = {"decodability.n_sequences": (n_extract, extracted),
               "dependence.n_sequences": (n_extract, extracted),
               "gradient_flow.n_sequences": (n_extract, extracted),
               "emergence.n_sequences": (n_extract, extracted),
               "causal.ablation_sequences": (n_extract - n_extract // 2,
                                             f"the second half of {extracted}")}
    for key, (limit, what) in at_most.items():
        section, name = key.split(".")
        if config[section][name] > limit:
            problems.append(f"config key '{key}': {config[section][name]} is more than {what}: "
                            f"at most {limit}")
    causal, hidden = config["causal"], config["model"]["hidden_size"]
    if causal["verdict_k"] not in causal["unit_k"]:
        problems.append(f"config key 'causal.verdict_k': {causal['verdict_k']} is not one of "
                        f"causal.unit_k {causal['unit_k']}")
    too_large = [k for k in causal["unit_k"] if k >= hidden]
    if too_large:  # the ablation needs random groups of k units other than the targeted k
        problems.append(f"config key 'causal.unit_k': {too_large} not below model.hidden_size "
                        f"({hidden}): at most {hidden - 1}")
    for key in ("wiring.tasks", "wiring.forget_bias_tasks", "controls.tasks"):
        section, name = key.split(".")
        extra = [t for t in config[section][name] if t not in config["study"]["tasks"]]
        if extra:
            problems.append(f"config key '{key}': {', '.join(extra)} not in study.tasks "
                            f"({', '.join(config['study']['tasks'])})")
    for key, analysis in ANALYSIS_TASK_LISTS.items():
        section, name = key.split(".")
        for task in config[section][name]:
            try:
                tasks.require(task, analysis)
            except ValueError as exc:
                problems.append(f"config key '{key}': {exc}")
    problems += _rewire_problems(config)
    problems += _control_problems(config)
    for name in config["study"]["tasks"]:
        # The generators know their own constraints (e.g. probabilities summing to > 1).
        base = tasks.base_name(name)
        params = config["task_params"][base]
        try:
            tasks.make_task(name, 1, tasks.length_for(name, data["length"], **params), 0,
                            **params)
        except ValueError as exc:
            problems.append(f"config key 'task_params.{base}': {exc}")
    return problems


def _control_problems(config: dict) -> list[str]:
    """Each task of `controls.tasks` must have an event whose role one of the control
    architectures holds a gate for (`architectures.controlled_roles`): otherwise its control
    cells would control no test (e.g. a task without a RESET, a STORE and a QUERY under
    lstm_nfg, lstm_nig and lstm_nog). Architectures that control no event role (lstm_ffg: the
    gradient highway's control) ask for none."""
    archs = {arch: set(controlled_roles(arch)) for arch in config["controls"]["architectures"]}
    archs = {arch: roles for arch, roles in archs.items() if roles}
    problems = []
    for task in config["controls"]["tasks"] if archs else ():
        events = set(tasks.EVENTS[task])
        if not any(roles & events for roles in archs.values()):
            held = "; ".join(f"{arch}: {', '.join(sorted(roles))}" for arch, roles in
                             archs.items())
            problems.append(f"config key 'controls.tasks': task {task} has no event of a role "
                            f"the control architectures hold a gate for ({held}); its events: "
                            f"{', '.join(events) or 'none'}")
    return problems


def user_model_problems(section: dict | None) -> list[str]:
    """The `user_model` section's files exist and its 'pkg.module:function' modules can be
    found (without importing them: no torch at parse time)."""
    import importlib.util

    if section is None:
        return []
    problems = []
    for key in ("checkpoint", "inputs", "events"):
        if not Path(section[key]).is_file():
            problems.append(f"config key 'user_model.{key}': no file {section[key]!r} (paths are "
                            f"relative to the working directory; the example's files come "
                            f"from `python -m gateroles.examples.g2p results/example_user_model`)")
    for key in ("factory", "behaviour"):
        module = section[key].partition(":")[0]
        try:
            found = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            found = None
        if found is None:
            problems.append(f"config key 'user_model.{key}': cannot find module {module!r} "
                            f"(from {section[key]!r}); is its package installed?")
    return problems


def lstm_budget(config: dict, task: str) -> int:
    """The plain LSTM's training budget on `task` (`training.steps[task]`: an integer, or a
    mapping with a `default` and per-architecture entries), as `training.budget` reads it."""
    steps = tasks.lookup(config["training"]["steps"], task)
    return steps if isinstance(steps, int) else steps.get("lstm", steps["default"])


def _rewire_problems(config: dict) -> list[str]:
    """The rewiring's fine-tuning must be at most half of each wiring task's LSTM training
    budget (with a budget as long as the original training, "recovers" could not fail) and
    span at least one validation check (its curve is compared with training from step 0 at
    the checks both have)."""
    rewire = config["wiring"]["rewire"]
    if not rewire["enabled"]:
        return []
    problems = []
    eval_every = config["training"]["eval_every"]
    if config["wiring"]["tasks"] and rewire["steps"] < eval_every:
        problems.append(f"config key 'wiring.rewire.steps': {rewire['steps']} is below "
                        f"training.eval_every ({eval_every}): the fine-tuning would share no "
                        "validation check with training from step 0 to be compared with")
    for task in config["wiring"]["tasks"]:
        try:
            budget = lstm_budget(config, task)
        except KeyError:
            continue
        if rewire["steps"] > budget // 2:
            problems.append(
                f"config key 'wiring.rewire.steps': {rewire['steps']} is more than half of "
                f"{task}'s LSTM training budget (training.steps.{task}: {budget}): at most "
                f"{budget // 2}, so that relearning after the swap can fail to beat training "
                "from step 0")
    return problems


def config_hash(config: dict) -> str:
    """A short stable hash of the validated config (for provenance)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


if __name__ == "__main__":  # python -m gateroles.config [schema.yaml]: the whole schema
    import sys

    path = sys.argv[1] if len(sys.argv) > 1 else "config/schema.yaml"
    print(yaml.safe_dump(load_schema(path), sort_keys=False, width=100), end="")
