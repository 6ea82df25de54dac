"""A bad config fails at parse time with a message naming the key."""

import copy
from pathlib import Path

import pytest
import yaml

from gateroles.config import ConfigError, load_schema, validate

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "config" / "schema.yaml"


def default_config():
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def test_default_config_is_valid_and_defaults_are_filled():
    config = validate(default_config(), SCHEMA)
    assert config["analysis"]["confidence"] == 0.95
    assert config["task_params"]["reset_recall"]["n_values"] == 4


def test_every_schema_key_has_a_description_and_default():
    schema = load_schema(SCHEMA)  # with the sections the typed settings declare

    def walk(node, path):
        for name, sub in node.get("properties", {}).items():
            here = f"{path}.{name}" if path else name
            # a key its section requires has no default (user_model: the user's own files)
            assert "default" in sub or name in node.get("required", ()), here
            if not path.startswith("training.solved_threshold"):
                assert "description" in sub, here
            walk(sub, here)

    walk(schema, "")


def _set(config, dotted, value):
    node = config
    *parents, last = dotted.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return config


BAD = [
    ("stdy", {}, "'(top level)'", "stdy"),
    ("study.tasks", ["reset_recall", "sorting"], "study.tasks[1]", "sorting"),
    ("study.tasks", [], "study.tasks", "should be non-empty"),
    # `name@H`: a task with a hold, H a positive integer written without leading zeros
    ("study.tasks", ["hold_recall@03"], "study.tasks[0]", "without leading zeros"),
    ("study.tasks", ["hold_recall@"], "study.tasks[0]", "positive integer"),
    ("study.tasks", ["reset_recall@10"], "study.tasks[0]", "has no hold parameter"),
    ("study.tasks", ["sorting@10"], "study.tasks[0]", "hold_recall@H"),
    ("training.steps", {"hold_recall@x": 10}, "training.steps", "hold_recall@x"),
    ("training.steps", {"hold_recall@20": 0}, "training.steps.hold_recall@20", "is not valid"),
    ("task_params", {"hold_recall@20": {}}, "task_params", "hold_recall@20"),
    ("task_params.hold_recall.hold", 0, "task_params.hold_recall.hold", "minimum"),
    # an analysis's task list: each task must declare what that analysis needs
    ("learnability.tasks", ["adding"], "learnability.tasks", "'adding' lacks a hold parameter "
     "(params: hold), which the learnability analysis needs"),
    ("study.architectures", ["lstm", "transformer"], "study.architectures[1]", "gru"),
    ("study.inits", ["xavier"], "study.inits[0]", "chrono"),
    ("study.seeds", [0, -1], "study.seeds[1]", "minimum"),
    ("study.seeds", [1, 1], "study.seeds", "non-unique"),
    ("study.seeds", [0, "one"], "study.seeds[1]", "integer"),
    ("model.hidden_size", 0, "model.hidden_size", "minimum"),
    ("model.hidden_size", 3.5, "model.hidden_size", "integer"),
    ("training.lr", -0.1, "training.lr", "less than or equal"),
    ("training.steps.adding", {"default": 100, "transformer": 5}, "training.steps.adding",
     "is not valid"),
    ("training.steps.reset_recall", 0, "training.steps.reset_recall", "is not valid"),
    ("training.solved_threshold.reset_recall", 1.5, "training.solved_threshold.reset_recall",
     "maximum"),
    ("training.device", "tpu", "training.device", "cpu"),
    ("training.batch_size", "64", "training.batch_size", "integer"),
    ("data.length", 2, "data.length", "minimum"),
    ("extraction.n_sequences", 10000, "extraction.n_sequences", "test split"),
    ("decodability.n_sequences", 201, "decodability.n_sequences", "at most 200"),
    ("dependence.n_sequences", 201, "dependence.n_sequences", "at most 200"),
    ("gradient_flow.n_sequences", 201, "gradient_flow.n_sequences", "at most 200"),
    ("emergence.n_sequences", 201, "emergence.n_sequences", "at most 200"),
    ("causal.ablation_sequences", 101, "causal.ablation_sequences", "at most 100"),
    ("causal.verdict_k", 3, "causal.verdict_k", "not one of causal.unit_k"),
    ("causal.unit_k", [1, 4, 32], "causal.unit_k", "at most 31"),
    ("analysis.confidence", 1.5, "analysis.confidence", "maximum"),
    ("task_params.reset_recall.p_store", 0.9, "task_params.reset_recall", "sum"),
    ("task_params.adding.n_values", 3, "task_params.adding", "n_values"),
    ("resources.train_threads", 0, "resources.train_threads", "minimum"),
    # the sections the analyses' typed settings declare (gateroles.settings)
    ("event_locking.unit_alpha", 0.9, "event_locking.unit_alpha", "maximum of 0.5"),
    ("dependence.bins", [8, 1], "dependence.bins[1]", "minimum of 2"),
    ("learnability.architectures", ["transformer"], "learnability.architectures[0]", "gru_fug"),
    ("wiring.rewire.steps", 0, "wiring.rewire.steps", "minimum of 1"),
    ("wiring.rewire.every", 5, "wiring.rewire", "allowed keys here: enabled, first_checkpoint"),
    ("causal.n_permutations", 5, "causal", "allowed keys here: ablation_sequences, n_random"),
    ("viewer.seeds", 0, "viewer.seeds", "minimum of 1"),
]


@pytest.mark.parametrize("key,value,named,hint", BAD, ids=[f"{k}={v!r}" for k, v, *_ in BAD])
def test_bad_config_is_rejected_naming_the_key(key, value, named, hint):
    config = _set(copy.deepcopy(default_config()), key, value)
    with pytest.raises(ConfigError) as info:
        validate(config, SCHEMA)
    message = str(info.value)
    assert named in message and hint in message, message


@pytest.mark.parametrize("old,new", [("probes", "decodability"), ("information", "dependence"),
                                     ("events", "event_locking"),
                                     ("gradients", "gradient_flow")])
def test_a_section_under_its_old_name_fails_naming_the_new_one(old, new):
    config = {**default_config(), old: {"n_sequences": 10}}
    with pytest.raises(ConfigError, match=f"config key '{old}' is now '{new}'"):
        validate(config, SCHEMA)


def test_not_a_mapping():
    with pytest.raises(ConfigError, match="mapping"):
        validate(["study"], SCHEMA)
