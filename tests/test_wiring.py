"""C4, roles come from wiring: the swapped-init arm, fine-tuning from given weights, the grid,
and the verdict logic on synthetic per-seed tables whose answer is known."""

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from gateroles import stats, storage, study
from gateroles.analyses.wiring import Settings
from gateroles.analyses.wiring import aggregate as wiring
from gateroles.analyses.wiring import measure as rewiring
from gateroles.architectures import ARCHITECTURES, init_applies
from gateroles.config import ConfigError, validate
from gateroles.interventions import swap_blocks
from gateroles.models import build_model, gate_rows
from gateroles.study import Run
from gateroles.tasks import make_splits
from gateroles.training import TrainSettings, train

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "config" / "schema.yaml"
STATS = stats.Settings(bootstrap_samples=200, confidence=0.95, min_seeds=5)
SEEDS = [0, 1, 2, 3, 4]
H = 8
WEIGHTS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


def config(**wiring):
    raw = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    raw["wiring"].update(wiring)
    return validate(raw, SCHEMA)


def settings(**wiring) -> Settings:
    return Settings.from_config(config(**wiring))


# --------------------------------------------------------------------------- the init arm


def test_swap_arm_applies_to_the_plain_lstm_only():
    assert [a for a in ARCHITECTURES if init_applies(a, "swap_forget_input")] == ["lstm"]
    with pytest.raises(ValueError, match="does not apply"):
        build_model("gru", 5, H, 3, "swap_forget_input", 30, seed=0)


def test_swap_arm_is_the_default_init_with_forget_and_input_exchanged():
    """The two runs' initial weights are block-exchanged copies: f and i rows swapped in all
    four tensors, every other row and the read-out identical."""
    default = build_model("lstm", 5, H, 3, "default", 30, seed=7)
    swapped = build_model("lstm", 5, H, 3, "swap_forget_input", 30, seed=7)
    f, i = gate_rows("lstm", "forget", H), gate_rows("lstm", "input", H)
    rest = [gate_rows("lstm", g, H) for g in ("cell_candidate", "output")]
    sd, ss = default.state_dict(), swapped.state_dict()
    for name in WEIGHTS:
        assert torch.equal(ss[f"rnn.{name}"][f], sd[f"rnn.{name}"][i]), name
        assert torch.equal(ss[f"rnn.{name}"][i], sd[f"rnn.{name}"][f]), name
        assert not torch.equal(ss[f"rnn.{name}"][f], sd[f"rnn.{name}"][f]), name
        for rows in rest:
            assert torch.equal(ss[f"rnn.{name}"][rows], sd[f"rnn.{name}"][rows]), name
    for name in ("readout.weight", "readout.bias"):
        assert torch.equal(ss[name], sd[name])
    # the same exchange as the intervention on a trained model
    via_intervention = swap_blocks(default, "forget", "input").state_dict()
    for name, value in ss.items():
        assert torch.equal(value, via_intervention[name]), name


def _batches_seen(init: str, steps: int = 6) -> tuple[list[torch.Tensor], dict]:
    """Train briefly and record every batch the model was given in training mode."""
    splits = make_splits("reset_recall", {"train": 64, "validation": 16, "test": 16}, 20, 3)
    seen = []
    original = torch.nn.Module.__call__

    def record(module, *args, **kwargs):
        if getattr(module, "arch", None) == "lstm" and module.training:
            seen.append(args[0].clone())
        return original(module, *args, **kwargs)

    settings_ = TrainSettings(hidden_size=H, batch_size=8, steps=steps, eval_every=3,
                              checkpoints=(0, steps))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch.nn.Module, "__call__", record)
        result = train(splits, "lstm", init, seed=3, settings=settings_)
    return seen, result.checkpoints


def test_swap_run_sees_the_same_batches_in_the_same_order():
    seen_default, ckpt_default = _batches_seen("default")
    seen_swap, ckpt_swap = _batches_seen("swap_forget_input")
    assert len(seen_default) == len(seen_swap) == 6
    for a, b in zip(seen_default, seen_swap, strict=True):
        assert torch.equal(a, b)
    f, i = gate_rows("lstm", "forget", H), gate_rows("lstm", "input", H)
    w_d, w_s = ckpt_default[0]["rnn.weight_hh_l0"], ckpt_swap[0]["rnn.weight_hh_l0"]
    assert torch.equal(w_d[f], w_s[i]) and torch.equal(w_d[i], w_s[f])


# --------------------------------------------------------------------------- fine-tuning


def test_fine_tuning_starts_from_the_given_weights():
    """The first fine-tuning checkpoint is the swapped model, the same loop then moves it,
    and a start that already solves the task counts as solved at step 0."""
    splits = make_splits("reset_recall", {"train": 64, "validation": 32, "test": 16}, 20, 1)
    base = TrainSettings(hidden_size=H, batch_size=16, steps=30, eval_every=10,
                         checkpoints=(0, 10, 30), solved_threshold=0.99)
    trained = train(splits, "lstm", "default", 1, base).model
    swapped = swap_blocks(trained, "forget", "input")
    start = {k: v.clone() for k, v in swapped.state_dict().items()}
    result = train(splits, "lstm", "default", 1, base, start_state=start)
    for name, value in start.items():
        assert torch.equal(result.checkpoints[0][name], value), name
    assert not torch.equal(result.checkpoints[30]["rnn.weight_hh_l0"],
                           start["rnn.weight_hh_l0"])
    fresh = train(splits, "lstm", "default", 1, base)
    assert not torch.equal(fresh.checkpoints[0]["rnn.weight_hh_l0"],
                           start["rnn.weight_hh_l0"])
    easy = TrainSettings(hidden_size=H, batch_size=16, steps=10, eval_every=10,
                         checkpoints=(0, 10), solved_threshold=1e-6)
    assert train(splits, "lstm", "default", 1, easy, start_state=start).steps_to_solve == 0
    assert train(splits, "lstm", "default", 1, easy).steps_to_solve == 10


def test_fine_tuning_with_frozen_gates_never_moves_their_rows():
    """The rewiring's control: the moved blocks' rows stay exactly at their start values in
    every tensor while every other row trains."""
    splits = make_splits("reset_recall", {"train": 64, "validation": 32, "test": 16}, 20, 1)
    base = TrainSettings(hidden_size=H, batch_size=16, steps=20, eval_every=10,
                         checkpoints=(0, 20), solved_threshold=0.99)
    start = {k: v.clone() for k, v in build_model("lstm", 10, H, 5, "default", 20,
                                                  seed=4).state_dict().items()}
    result = train(splits, "lstm", "default", 1, base, start_state=start,
                   frozen=("forget", "input"))
    end = result.checkpoints[20]
    for name in WEIGHTS:
        for gate in ("forget", "input"):
            rows = gate_rows("lstm", gate, H)
            assert torch.equal(end[f"rnn.{name}"][rows], start[f"rnn.{name}"][rows]), name
        rows = gate_rows("lstm", "output", H)
        assert not torch.equal(end[f"rnn.{name}"][rows], start[f"rnn.{name}"][rows]), name
    assert not torch.equal(end["readout.weight"], start["readout.weight"])


def test_rewire_run_writes_the_swapped_model_as_checkpoint_zero(tmp_path):
    from gateroles.analyses.wiring.rewire import rewire_run
    from gateroles.models import models_from_payload
    from gateroles.training import train_run

    cfg = config(tasks=["reset_recall"])
    cfg["wiring"]["rewire"].update(steps=20, first_checkpoint=5)  # half of 40, 2 checks of 10
    cfg["data"].update(length=20, n_train=64, n_validation=32, n_test=32)
    cfg["model"]["hidden_size"] = H
    cfg["training"].update(steps={**cfg["training"]["steps"], "reset_recall": 40},
                           eval_every=10, batch_size=16)
    run = Run("reset_recall", "lstm", "default", 2)
    paths = {k: str(tmp_path / f"{k}.{ext}") for k, ext in
             (("ckpt", "pt"), ("log", "csv"), ("test", "json"))}
    train_run(cfg, run, checkpoints_path=paths["ckpt"], log_path=paths["log"],
              test_path=paths["test"])
    out = {k: str(tmp_path / f"rewire_{k}") for k in ("ckpt.pt", "log.csv", "scores.csv",
                                                      "test.json", "frozen.pt", "frozen.csv")}
    rewire_run(cfg, run, start_path=paths["ckpt"], checkpoints_path=out["ckpt.pt"],
               log_path=out["log.csv"], scores_path=out["scores.csv"],
               test_path=out["test.json"], frozen_path=out["frozen.pt"],
               frozen_log_path=out["frozen.csv"])
    original = models_from_payload(storage.load_torch(paths["ckpt"]))
    expected = swap_blocks(original[max(original)], "forget", "input").state_dict()
    payload = storage.load_torch(out["ckpt.pt"])
    assert sorted(int(s) for s in payload["steps"]) == [0, 5, 10, 20]
    for name, value in expected.items():
        assert torch.equal(payload["steps"]["0"][name], value), name
    scores = storage.read_csv(out["scores.csv"])
    test = storage.read_json(out["test.json"])
    assert list(scores["step"]) == [0, 5, 10, 20]
    # The JSON keeps the float; the scores table keeps storage.CSV_DIGITS significant digits.
    assert test["test_score_swapped"] == pytest.approx(scores["test_score"].iloc[0],
                                                       rel=storage.CSV_REL_TOL)
    assert test["test_score_original"] == pytest.approx(
        storage.read_json(paths["test"])["test_score"])
    # the control: the same fine-tuning with the moved blocks' rows held at their swapped
    # values, its last checkpoint only, and its own validation log over the same steps
    frozen = storage.load_torch(out["frozen.pt"])["steps"]
    assert list(frozen) == ["20"]
    for name in WEIGHTS:
        for gate in ("forget", "input"):
            rows = gate_rows("lstm", gate, H)
            assert torch.equal(frozen["20"][f"rnn.{name}"][rows],
                               expected[f"rnn.{name}"][rows]), name
    assert not torch.equal(frozen["20"]["readout.weight"], expected["readout.weight"])
    assert list(storage.read_csv(out["frozen.csv"])["step"]) == [0, 10, 20]
    assert 0 <= test["test_score_frozen"] <= 1


# --------------------------------------------------------------------------- the grid


def test_grid_adds_the_c4_cells_once_and_main_only_leaves_them_out():
    cfg = config(tasks=["reset_recall", "count_reset"], forget_bias_tasks=["count_reset"],
                 two_positions=True)
    main = study.cells(cfg, main_only=True)
    cells = study.cells(cfg)
    assert cells[:len(main)] == main and len(set(cells)) == len(cells)
    added = set(cells) - set(main)
    for task in ("reset_recall", "count_reset"):
        for arch in ("lstm_nfg", "lstm_nig", "lstm_nog", "lstm_cifg", "rnn"):
            assert study.Cell(task, arch, "default") in added
        assert study.Cell(task, "lstm", "swap_forget_input") in added
    assert study.Cell("count_reset", "lstm", "forget_bias_1") in added
    assert study.Cell("reset_recall", "lstm", "forget_bias_1") not in cells
    assert study.Cell("count_reset", "gru", "default") in main  # already there: not repeated
    no_wiring = config(tasks=[], forget_bias_tasks=[])
    no_wiring["controls"].update(tasks=[], hold_architectures=[])
    assert study.cells(no_wiring) == study.cells(no_wiring, main_only=True)
    # the negative controls' cells: each control architecture on each control task, and the
    # keep gate's controls on each hold task of the main grid, once
    only_controls = config(tasks=[], forget_bias_tasks=[])
    controls = only_controls["controls"]
    holds = [t for t in only_controls["study"]["tasks"] if "@" in t]
    assert holds and set(holds).isdisjoint(controls["tasks"])
    added = set(study.cells(only_controls)) - set(study.cells(only_controls, main_only=True))
    assert added == ({study.Cell(t, a, "default") for t in controls["tasks"]
                      for a in controls["architectures"]}
                     | {study.Cell(t, a, "default") for t in holds
                        for a in controls["hold_architectures"]})
    assert study.Cell(holds[0], "lstm_nig", "default") not in added  # not a keep-gate control


def test_a_wiring_task_outside_the_study_is_a_config_error():
    raw = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    raw["study"]["tasks"] = ["reset_recall"]
    with pytest.raises(ConfigError, match="wiring.tasks"):
        validate(copy.deepcopy(raw), SCHEMA)
    raw["wiring"].update(tasks=["reset_recall"], forget_bias_tasks=[])
    with pytest.raises(ConfigError, match="controls.tasks"):
        validate(copy.deepcopy(raw), SCHEMA)
    raw["controls"]["tasks"] = ["reset_recall"]
    validate(raw, SCHEMA)


def test_the_default_study_leaves_the_symmetry_demonstration_out():
    """The two-positions arm cannot fail (exchangeable blocks): off by default, on at paper
    scale."""
    cells = study.cells(config())
    assert not any(c.init == "swap_forget_input" for c in cells)
    paper = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())
    assert paper["wiring"]["two_positions"] is True


def test_a_fine_tuning_budget_above_half_the_training_budget_is_a_config_error():
    """With a budget as long as the original training, "recovers" could not fail: the config
    check names the key, the task and the limit (the LSTM's own budget where it has one)."""
    raw = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    raw["training"]["steps"]["reset_recall"] = 300
    raw["wiring"]["rewire"]["steps"] = 151
    with pytest.raises(ConfigError, match=r"wiring.rewire.steps': 151 .*reset_recall.*"
                                          r"training.steps.reset_recall: 300.*at most 150"):
        validate(copy.deepcopy(raw), SCHEMA)
    raw["wiring"]["rewire"]["steps"] = 150
    validate(copy.deepcopy(raw), SCHEMA)
    raw["training"]["steps"]["reset_recall"] = {"default": 1000, "lstm": 200}
    with pytest.raises(ConfigError, match="at most 100"):
        validate(copy.deepcopy(raw), SCHEMA)
    raw["wiring"]["rewire"].update(steps=20)  # no validation check to compare at
    with pytest.raises(ConfigError, match="below training.eval_every"):
        validate(copy.deepcopy(raw), SCHEMA)
    raw["wiring"]["rewire"]["enabled"] = False  # no fine-tuning, nothing to check
    validate(copy.deepcopy(raw), SCHEMA)


# --------------------------------------------------------------------------- behaviour scores


class Answers(torch.nn.Module):
    """A stand-in model whose logits give the right answer everywhere except at the steps of
    `wrong` (there: the next class), so every behaviour's score is known."""

    def __init__(self, targets: np.ndarray, wrong: np.ndarray, n_classes: int):
        super().__init__()
        answer = np.where(wrong, (targets + 1) % n_classes, targets)
        self.logits = torch.nn.functional.one_hot(torch.as_tensor(answer), n_classes).float()

    def forward(self, inputs):
        return self.logits[: inputs.shape[0]]


def test_each_behaviour_is_scored_on_its_own_steps():
    from gateroles.analyses.causal.measure import Data
    from gateroles.analyses.wiring.behaviour import behaviour_rows
    from gateroles.gatefile import task_arrays

    task = make_splits("reset_recall", {"test": 64}, 50, 0)["test"]
    arrays = task_arrays(task, 64)
    factors = {k.removeprefix("factor__"): v for k, v in arrays.items()
               if k.startswith("factor__")}
    meta = __import__("json").loads(str(arrays["meta"]))
    data = Data(arrays["inputs"], arrays["targets"], arrays["mask"], factors, meta)
    wrong = factors["recall_after_reset"].astype(bool)  # every answer after a RESET is wrong
    rows = {r["behaviour"]: r for r in behaviour_rows(
        Answers(task.targets, wrong, task.n_outputs), data)}
    assert rows["recall_after_reset"]["score"] == 0.0
    assert rows["recall_after_store"]["score"] == rows["recall_initial"]["score"] == 1.0
    assert rows["recall_after_store"]["n_scored"] == int(
        (factors["recall_after_store"].astype(bool) & task.mask).sum())
    assert {r["chance"] for r in rows.values()} == {task.chance}


def _writing_gates(store: np.ndarray, at_store: float, quiet: float, n_units: int = 4,
                   memory: np.ndarray | None = None, input_gate: bool = True) -> dict:
    """Gates whose write term i g has size `at_store` at STOREs and `quiet` elsewhere, in
    every unit; the cell follows the memory variable (so every unit carries it)."""
    shape = (*store.shape, n_units)
    size = np.where(store[..., None], at_store, quiet) * np.ones(shape)
    gates = {"cell_candidate": size.astype(np.float32),
             "cell": np.broadcast_to((memory if memory is not None
                                      else np.cumsum(store, axis=1))[..., None] * 1.0,
                                     shape).astype(np.float32),
             "forget": np.full(shape, 0.9, np.float32)}
    if input_gate:  # i = 1 written out: the same term as without an input gate
        gates["input"] = np.ones(shape, np.float32)
    return gates


def test_write_selectivity_is_the_share_of_the_write_term_at_stores():
    from gateroles.analyses.wiring.behaviour import write_selectivity

    rng = np.random.default_rng(0)
    store = rng.random((40, 30)) < 0.2
    reset = ~store & (rng.random((40, 30)) < 0.1)
    factors = {"is_store": store.astype(np.int64), "is_reset": reset.astype(np.int64),
               "memory": np.cumsum(store, axis=1) % 3}
    meta = {"events": {"store": "is_store", "reset": "is_reset"}, "memory": "memory"}
    selective = write_selectivity(_writing_gates(store, 0.9, 0.1), factors, meta, "lstm", 0.5)
    assert selective["selectivity"] == pytest.approx(0.9)
    assert selective["at_store"] == pytest.approx(0.9) and selective["quiet"] == pytest.approx(0.1)
    flat = write_selectivity(_writing_gates(store, 0.4, 0.4, input_gate=False), factors, meta,
                             "lstm_nig", 0.5)
    assert flat["selectivity"] == pytest.approx(0.5)
    # resets are neither stores nor quiet steps: a large write there changes nothing
    gates = _writing_gates(store, 0.9, 0.1)
    gates["cell_candidate"][reset] = 5.0
    assert write_selectivity(gates, factors, meta, "lstm", 0.5)["selectivity"] == \
        pytest.approx(0.9)
    assert write_selectivity(gates, factors, meta, "rnn", 0.5) is None
    assert write_selectivity(gates, factors, {**meta, "events": {"reset": "is_reset"}}, "lstm",
                             0.5) is None


# --------------------------------------------------------------------------- double dissociations

# Per task: the behaviours (and their scored steps per model) of the synthetic tables.
N_SCORED = {"recall_after_reset": 300, "recall_after_store": 600, "recall_initial": 100}


def behaviour_frame(drops: dict[str, dict[str, float]], noise: float = 0.01,
                    rng_seed: int = 0, task: str = "reset_recall", ref_solved=True
                    ) -> pd.DataFrame:
    """A stacked per-model `behaviours` table: the LSTM scores 1 on every behaviour, each
    variant `arch` scores 1 - drops[arch][behaviour] (+ noise per seed); at step 0 every model
    scores chance + noise on every behaviour."""
    rng = np.random.default_rng(rng_seed)
    chance = 0.25
    rows = []
    for arch, drop in {"lstm": {}, **drops}.items():
        for seed in SEEDS:
            for step in (0, 400):
                for behaviour, n in N_SCORED.items():
                    trained = 1.0 - drop.get(behaviour, 0.0) * (1 - chance)
                    value = trained if step else chance
                    if arch != "lstm":
                        value += rng.normal(0, noise)
                    rows.append({"task": task, "arch": arch, "init": "default", "seed": seed,
                                 "step": step, "final_step": 400, "behaviour": behaviour,
                                 "metric": "accuracy", "chance": chance, "n_scored": n,
                                 "score": float(np.clip(value, 0, 1)),
                                 "solved": arch != "lstm" or ref_solved})
    return pd.DataFrame(rows)


def runs_table(scores: dict[tuple[str, str], list[float]], task="reset_recall",
               chance=0.25, threshold=0.99) -> pd.DataFrame:
    """A runs table: per (arch, init), one accuracy per seed."""
    rows = []
    for (arch, init), values in scores.items():
        for seed, score in zip(SEEDS, values, strict=True):
            rows.append({"task": task, "arch": arch, "init": init, "seed": seed,
                         "metric": "accuracy", "test_score": score, "chance": chance,
                         "threshold": threshold, "solved": score >= threshold,
                         "steps": 400, "steps_to_solve": 150.0 if score >= threshold else None})
    return pd.DataFrame(rows)


PERFECT = [1.0, 0.998, 0.999, 1.0, 0.997]
GATES = ("lstm_nfg", "lstm_nig", "lstm_nog")


def dissociation_table(drops: dict, **kwargs) -> pd.DataFrame:
    """The verdict table of the double dissociations on a synthetic behaviour table, by arch."""
    s = settings(tasks=["reset_recall"])
    behaviours = wiring.behaviour_table(behaviour_frame(drops, **kwargs))
    rows = wiring.dissociation_rows(behaviours, runs_table({("lstm", "default"): PERFECT}), s,
                                    STATS)
    return stats.verdict_table(rows, STATS).set_index("arch")


def test_a_double_dissociation_is_supported_and_its_crossed_control_fails():
    """No forget gate: the EMPTY answers after a RESET drop, those before anything was stored
    do not; no input or output gate: the answers after a STORE drop. Each contrast holds on
    its variant and not on the crossed one, so both count."""
    table = dissociation_table({"lstm_nfg": {"recall_after_reset": 0.5},
                                "lstm_nig": {"recall_after_store": 0.4},
                                "lstm_nog": {"recall_after_store": 0.5}})
    nfg, nog = table.loc["lstm_nfg"], table.loc["lstm_nog"]
    for row in (nfg, nog):
        assert row["test"] == stats.PRIMARY and row["verdict"] == "supported"
        assert row["control_verdict"] in stats.CONTROL_FAILS and row["counted"]
        assert row["rival"].startswith("any gate in any position would do")
    assert nfg["control"].startswith("lstm_nig") and nog["control"].startswith("lstm_nfg")
    # normalised drops: after a RESET 0.5 minus before anything was stored 0
    assert nfg["change"] == pytest.approx(0.5, abs=0.02)
    # after a STORE 0.5 minus the EMPTY answers (after a RESET and initial) 0
    assert nog["change"] == pytest.approx(0.5, abs=0.02)
    # the crossed controls: lstm_nig 0 - 0; lstm_nfg 0 - (300 x 0.5 + 100 x 0) / 400
    assert nfg["control_change"] == pytest.approx(0.0, abs=0.02)
    assert nog["control_change"] == pytest.approx(-0.375, abs=0.02)
    assert nog["control_verdict"] == "contradicted"
    assert nfg["initial"] == pytest.approx(0.0, abs=0.02)  # step 0 shown, not decided on
    assert "no step-0 version" in nfg["decided_on"]


def test_removals_that_hurt_every_behaviour_alike_are_not_a_dissociation():
    """The rival: every removal costs every behaviour the same. The contrast is ~0 on every
    variant: not supported."""
    alike = {arch: {b: 0.3 for b in N_SCORED} for arch in GATES}
    table = dissociation_table(alike)
    for arch in ("lstm_nfg", "lstm_nog"):
        assert table.loc[arch, "verdict"] in ("inconclusive", "contradicted")
        assert table.loc[arch, "change"] == pytest.approx(0.0, abs=0.02)


def test_a_contrast_that_holds_on_its_crossed_control_too_is_not_a_test():
    """Every removal hurts the answers after a RESET most (the hardest behaviour, say): the
    no-forget contrast holds on lstm_nfg and on lstm_nig alike, so it is not counted."""
    hardest = {arch: {"recall_after_reset": 0.5} for arch in GATES}
    table = dissociation_table(hardest)
    nfg = table.loc["lstm_nfg"]
    assert nfg["verdict"] == "supported" and nfg["control_verdict"] == "supported"
    assert not nfg["counted"]


def test_a_dissociation_at_the_ceiling_is_untestable():
    """Every model perfect on every behaviour: the contrast is exactly 0 on every seed."""
    table = dissociation_table({arch: {} for arch in GATES}, noise=0.0)
    assert set(table["verdict"]) == {"untestable"}


def test_a_dissociation_without_its_control_variant_does_not_count():
    s = settings(tasks=["reset_recall"], architectures=["lstm_nfg"])
    behaviours = wiring.behaviour_table(behaviour_frame({"lstm_nfg": {"recall_after_reset": .5}}))
    rows = wiring.dissociation_rows(behaviours, runs_table({("lstm", "default"): PERFECT}), s,
                                    STATS)
    table = stats.verdict_table(rows, STATS)
    assert len(table) == 1 and table["control"].iloc[0].endswith("(not run)")
    assert not table["counted"].iloc[0]


def test_seeds_whose_lstm_failed_are_left_out():
    frame = behaviour_frame({arch: {"recall_after_reset": 0.5} for arch in GATES})
    frame.loc[(frame["arch"] == "lstm") & (frame["seed"] == SEEDS[0]), "solved"] = False
    behaviours = wiring.behaviour_table(frame)
    runs = runs_table({("lstm", "default"): [0.3, *PERFECT[1:]]})
    rows = wiring.dissociation_rows(behaviours, runs, settings(tasks=["reset_recall"]), STATS)
    assert {r["n_seeds"] for r in rows} == {4} and {r["n_unsolved"] for r in rows} == {1}
    assert {r["verdict"] for r in rows} == {"insufficient seeds"}


def test_pooled_drop_weights_behaviours_by_their_scored_steps():
    table = pd.DataFrame({"seed": [0, 0], "phase": ["trained"] * 2,
                          "behaviour": ["a", "b"], "n_scored": [100, 300],
                          "drop": [0.4, 0.0]})
    drop = wiring.pooled_drop(table, ("a", "b"))
    assert drop.loc[(0, "trained")] == pytest.approx(0.1)
    assert wiring.pooled_drop(table, ("c",)).empty


# --------------------------------------------------------------------------- selective writing


def writing_frame(selectivity: dict[str, float], initial: float = 0.5, noise: float = 0.02,
                  rng_seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(rng_seed)
    rows = []
    for arch, value in selectivity.items():
        for seed in SEEDS:
            for step, v in ((0, initial), (400, value)):
                rows.append({"task": "reset_recall", "arch": arch, "init": "default",
                             "seed": seed, "step": step, "final_step": 400, "at_store": np.nan,
                             "quiet": np.nan, "selectivity": v + rng.normal(0, noise)})
    return pd.DataFrame(rows)


def writing_verdicts(selectivity: dict[str, float], **kwargs) -> pd.DataFrame:
    runs = runs_table({("lstm", "default"): PERFECT})
    table = wiring.writing_table(writing_frame(selectivity, **kwargs), runs)
    rows = wiring.writing_rows(table, runs, settings(tasks=["reset_recall"]), STATS)
    return stats.verdict_table(rows, STATS)


def test_losing_selective_writing_without_an_input_gate_is_supported_and_counted():
    """The LSTM writes mostly at stores (0.9), the no-input variant much less selectively
    (0.6), the no-output variant as selectively as the LSTM: supported, its control fails."""
    row = writing_verdicts({"lstm": 0.9, "lstm_nig": 0.6, "lstm_nog": 0.9}).iloc[0]
    assert row["verdict"] == "supported" and row["change"] == pytest.approx(0.3, abs=0.03)
    assert row["control"].startswith("lstm_nog") and row["control_verdict"] == "inconclusive"
    assert row["counted"] and row["decided_on"] == stats.CHANGE


def test_selective_writing_that_every_removal_loses_is_not_a_test():
    row = writing_verdicts({"lstm": 0.9, "lstm_nig": 0.6, "lstm_nog": 0.6}).iloc[0]
    assert row["verdict"] == "supported" and row["control_verdict"] == "supported"
    assert not row["counted"]


def test_a_candidate_that_writes_as_selectively_is_not_supported():
    """The rival: without the input gate the candidate alone writes as selectively."""
    row = writing_verdicts({"lstm": 0.8, "lstm_nig": 0.8, "lstm_nog": 0.8}).iloc[0]
    assert row["verdict"] != "supported"


# --------------------------------------------------------------------------- two positions


def positions_contrast(follows: str, rng_seed: int = 0) -> pd.DataFrame:
    """A stacked C2 `contrast` table of the default and swapped-init runs: follows =
    "position": the gate in the forget position drops at resets (-0.3) and the one in the
    input position rises at stores (+0.3), whichever block it is; "block": block f0 behaves
    like a forget gate and i0 like an input gate in both runs. At step 0 nothing."""
    rng = np.random.default_rng(rng_seed)
    rows = []
    for seed in SEEDS:
        for init in ("default", wiring.SWAP):
            for gate in ("forget", "input", "output"):
                block = wiring.BLOCK_AT.get((init, gate))
                role = gate if follows == "position" or block is None else {
                    "f0": "forget", "i0": "input"}[block]
                for event in ("reset", "store"):
                    trained = ((-0.3 if role == "forget" and event == "reset" else 0.0)
                               + (0.3 if role == "input" and event == "store" else 0.0))
                    for step in (0, 400):
                        rows.append({"task": "reset_recall", "arch": "lstm", "init": init,
                                     "seed": seed, "gate": gate, "event": event, "step": step,
                                     "final_step": 400, "solved": True,
                                     "difference": (trained if step else 0.0)
                                     + rng.normal(0, 0.02)})
    return pd.DataFrame(rows)


def test_the_two_positions_rows_are_sanity_checks_never_counted():
    """The symmetry demonstration passes where the role follows the position, fails where it
    follows the block, and never counts either way (it cannot fail unless C2 does)."""
    for follows in ("position", "block"):
        rows = wiring.position_verdicts(wiring.positions_table(positions_contrast(follows)),
                                        STATS)
        table = stats.verdict_table(rows, STATS)
        assert len(table) == 6 and set(table["test"]) == {stats.SANITY}
        assert not table["counted"].any() and table["note"].str.contains("symmetry").all()
        supported = set(table["verdict"]) == {"supported"}
        assert supported == (follows == "position")


def test_positions_table_pairs_the_two_runs_by_block():
    table = wiring.positions_table(positions_contrast("position"))
    f0 = table[(table["block"] == "f0") & (table["phase"] == "trained")]
    assert set(zip(f0["init"], f0["position"], strict=True)) == {("default", "forget"),
                                                                 (wiring.SWAP, "input")}
    assert set(table["position"]) == {"forget", "input"}


# --------------------------------------------------------------------------- rewiring


def test_distance_sums_each_positions_gaps_over_the_events():
    effects = pd.DataFrame({
        "run": [rewiring.TUNED] * 6, "step": [0] * 6,
        "gate": ["forget", "forget", "input", "input", "output", "output"],
        "event": ["reset", "store"] * 3, "value": [0.1, 0.2, -0.3, 0.4, 9.0, 9.0]})
    original = effects.assign(run=rewiring.ORIGINAL, value=[-0.2, 0.0, 0.0, 0.1, 0.0, 0.0])
    d = rewiring.distances(effects, original).set_index("position")
    assert d.loc["forget", "distance"] == pytest.approx(0.3 + 0.2)
    assert d.loc["input", "distance"] == pytest.approx(0.3 + 0.3)
    assert "output" not in d.index and set(d["n_events"]) == {2}


def distance_frame(end: dict[str, float], frozen: dict[str, float], rng_seed: int = 0
                   ) -> pd.DataFrame:
    """Per seed: each swapped position 1.0 away from the original statistics right after the
    swap; at the end of fine-tuning `end[position]` away, with the blocks frozen
    `frozen[position]` (+ noise per seed)."""
    rng = np.random.default_rng(rng_seed)
    rows = []
    for seed in SEEDS:
        for position in ("forget", "input"):
            for run, step, value in ((rewiring.TUNED, 0, 1.0),
                                     (rewiring.TUNED, 100, (1 + end[position]) / 2),
                                     (rewiring.TUNED, 200, end[position]),
                                     (rewiring.FROZEN, 200, frozen[position])):
                rows.append({"task": "reset_recall", "arch": "lstm", "init": "default",
                             "seed": seed, "run": run, "step": step, "position": position,
                             "distance": value + (rng.normal(0, 0.02) if step else 0.0),
                             "n_events": 3, "final_step": 200, "solved": True})
    return pd.DataFrame(rows)


def test_the_fraction_of_the_distance_closed_has_a_known_value():
    f = wiring.fractions(distance_frame({"forget": 0.2, "input": 0.6},
                                        {"forget": 1.0, "input": 1.0}))
    assert f["distance_swapped"].tolist() == [2.0] * 5
    assert f["fraction"].mean() == pytest.approx(1 - 0.8 / 2, abs=0.02)
    assert f["fraction_forget"].mean() == pytest.approx(0.8, abs=0.03)
    assert f["fraction_input"].mean() == pytest.approx(0.4, abs=0.03)
    assert f["fraction_frozen"].mean() == pytest.approx(0.0, abs=0.03)


def rewire_inputs(tuned: float, frozen: float, tuned_curve: float, frozen_curve: float):
    """Synthetic per-model rewiring tables for 5 seeds: the swap breaks the model (score 0.4
    after, 1.0 before); the positions end `tuned` (fine-tuned) and `frozen` (blocks frozen)
    away from the original statistics (1.0 right after the swap); the validation curves over
    the first 200 steps sit at `tuned_curve` and `frozen_curve` (normalised), training from
    step 0 at 0.4."""
    scores, curves = [], []
    for seed in SEEDS:
        for step in (0, 100, 200):
            scores.append({"task": "reset_recall", "arch": "lstm", "init": "default",
                           "seed": seed, "step": step, "final_step": 200, "solved": True,
                           "score": 0.55 + 0.01 * seed, "metric": "accuracy", "chance": 0.25,
                           "score_original": 1.0, "score_swapped": 0.55 + 0.01 * seed,
                           "score_final": 0.9, "score_frozen": 0.7,
                           "steps_to_solve_again": np.nan, "steps_to_solve_frozen": np.nan})
        for kind, level in ((rewiring.TUNED, tuned_curve), (rewiring.FROZEN, frozen_curve),
                            (rewiring.SCRATCH, 0.4)):
            for step in range(0, 401 if kind == rewiring.SCRATCH else 201, 25):
                value = 0.25 if step == 0 else 0.25 + 0.75 * (level + 0.01 * seed
                                                              + 0.002 * step / 25)
                curves.append({"task": "reset_recall", "arch": "lstm", "init": "default",
                               "seed": seed, "kind": kind, "step": step, "val_score": value,
                               "final_step": 200, "solved": True})
    distance = distance_frame({"forget": tuned, "input": tuned},
                              {"forget": frozen, "input": frozen})
    runs = runs_table({("lstm", "default"): PERFECT})
    return pd.DataFrame(scores), pd.DataFrame(curves), distance, runs


def rewire_rows(*args) -> pd.DataFrame:
    scores, curves, distance, runs = rewire_inputs(*args)
    s = settings(tasks=["reset_recall"])
    summary = wiring.rewire_summary(scores, curves, distance, runs, s)
    table = stats.verdict_table(wiring.rewire_verdicts(summary, s, STATS), STATS)
    return table.set_index(table["prediction"].str.split(" ").str[:4].str.join(" "))


def test_blocks_that_take_on_their_new_positions_pass_and_frozen_ones_fail():
    """Fine-tuned, the moved blocks close 70% of the distance and the net relearns faster
    than from step 0; frozen, neither: both primaries supported, both controls fail."""
    table = rewire_rows(0.3, 1.0, 0.8, 0.4)
    breaks = table.loc["the swap breaks the"]
    assert breaks["test"] == stats.SANITY and breaks["verdict"] == "supported"
    for key, value in (("the moved blocks close", 0.7),
                       ("after the swap, fine-tuning", 0.4)):
        row = table.loc[key]
        assert row["test"] == stats.PRIMARY and row["verdict"] == "supported", key
        assert row["change"] == pytest.approx(value, abs=0.03), key
        assert row["control_verdict"] in stats.CONTROL_FAILS and row["counted"]
        assert row["rival"].startswith("roles come from the weights")


def test_blocks_that_keep_their_old_statistics_are_not_supported():
    """The rival: fine-tuning leaves the moved blocks where they were (fraction ~0) and
    relearning is no faster than from step 0."""
    table = rewire_rows(1.0, 1.0, 0.4, 0.4)
    for key in ("the moved blocks close", "after the swap, fine-tuning"):
        assert table.loc[key, "verdict"] != "supported", key


def test_an_approach_that_frozen_blocks_make_too_is_not_a_test():
    """The statistics move just as far with the moved blocks frozen (the rest of the network
    adapting around them): the fraction is supported on its control too, so it does not
    count."""
    row = rewire_rows(0.3, 0.3, 0.8, 0.8).loc["the moved blocks close"]
    assert row["verdict"] == "supported" and row["control_verdict"] == "supported"
    assert not row["counted"]


def test_relearning_is_compared_with_step_0_over_the_same_validation_checks():
    scores, curves, distance, runs = rewire_inputs(0.3, 1.0, 0.8, 0.4)
    means = wiring.curve_means(curves, scores.groupby("seed", as_index=False).first(), 200)
    # the from-step-0 run is read only up to the fine-tuning budget (8 checks in (0, 200])
    assert set(means["n_evals"]) == {8}
    expected = 0.4 + 0.01 * means["seed"] + 0.002 * np.mean(np.arange(1, 9))
    assert means["mean_scratch"].to_numpy() == pytest.approx(expected.to_numpy())


def test_aggregate_on_empty_inputs_writes_every_table():
    s = settings(tasks=["reset_recall"])
    out = wiring.aggregate({}, runs_table({("lstm", "default"): PERFECT}), s, STATS)
    assert {"scores", "variants", "behaviours", "behaviour_summary", "writing", "ranking",
            "gap", "positions", "rewire_summary", "rewire", "curves", "c4"} <= set(out)
    assert out["c4"].empty and list(out["c4"].columns[:3]) == ["claim", "evidence",
                                                               "prediction"]
    # every table has its header even when empty (the report reads each one back)
    assert all(len(table.columns) for table in out.values()), [
        name for name, table in out.items() if not len(table.columns)]


# --------------------------------------------------------------------------- sanity and words


def test_the_tanh_rnn_and_the_coupling_are_sanity_rows():
    runs = runs_table({("lstm", "default"): [1.0] * 5, ("rnn", "default"): [0.6] * 5,
                       ("lstm_cifg", "default"): [1.0] * 5})
    s = settings(tasks=["reset_recall"], architectures=["rnn", "lstm_cifg"])
    table = stats.verdict_table(wiring.variant_sanity(wiring.scores_table(runs, s), s, STATS),
                                STATS).set_index(["arch", "prediction"])
    assert set(table["test"]) == {stats.SANITY} and not table["counted"].any()
    # at the ceiling the coupling cannot show a cost: untestable, never "equivalent"
    assert table.loc["lstm_cifg", "verdict"].tolist() == ["untestable"]
    close = runs_table({("lstm", "default"): PERFECT,
                        ("lstm_cifg", "default"): [0.999, 0.998, 1.0, 0.999, 0.998]})
    rows = wiring.variant_sanity(wiring.scores_table(close, s), s, STATS)
    assert [r["verdict"] for r in rows if r["arch"] == "lstm_cifg"] == ["equivalent"]


def test_the_forget_bias_words_follow_the_sign_of_the_change():
    """The gap grew from 45 to 80 steps: 'widens', never a share that reads as smaller."""
    from gateroles.analyses.wiring.section import gap_change_words

    assert gap_change_words(45, 30, 60, 80, 60, 100, 20, 50) == "it widens the gap"
    assert gap_change_words(45, 30, 60, 5, -10, 20, -55, -25) == "it narrows the gap"
    assert gap_change_words(45, 30, 60, -40, -60, -20, -100, -70) == "it reverses the gap"
    assert gap_change_words(-45, -60, -30, -5, -20, 10, 25, 55) == "it narrows the gap"
    assert "no change is shown" in gap_change_words(45, 30, 60, 50, 30, 70, -10, 20)
    assert "no gap to close" in gap_change_words(5, -10, 20, 40, 20, 60, 10, 60)


def test_the_primary_sentence_says_when_a_prediction_does_not_count():
    from gateroles.analyses.wiring.section import primary_sentence

    table = dissociation_table({arch: {"recall_after_reset": 0.5} for arch in GATES})
    nfg = next(r for r in table.reset_index().itertuples() if r.arch == "lstm_nfg")
    assert "Not a test" in primary_sentence(nfg)
    table = dissociation_table({"lstm_nfg": {"recall_after_reset": 0.5},
                                "lstm_nig": {"recall_after_store": 0.4},
                                "lstm_nog": {"recall_after_store": 0.5}})
    nfg = next(r for r in table.reset_index().itertuples() if r.arch == "lstm_nfg")
    sentence = primary_sentence(nfg)
    assert "(supported" in sentence and "(inconclusive)" in sentence and "Not" not in sentence


def test_the_fraction_is_compared_with_one_half_only_through_its_interval():
    from gateroles.analyses.wiring.section import half_words

    assert "below one half" in half_words(0.2, 0.4)
    assert "above one half" in half_words(0.6, 0.9)
    assert "not shown" in half_words(0.3, 0.7)


# --------------------------------------------------------------------------- figures


def test_the_variants_figure_zooms_its_score_axis_to_the_scores():
    """Every run near 1: the score axis spans the scores and the threshold, not 0 to 1 (where
    the points would lie in one flat line); a run near chance widens it to show that run."""
    from gateroles.analyses.wiring.figures import variants

    s = settings(tasks=["reset_recall"])
    close = runs_table({("lstm", "default"): PERFECT,
                        ("lstm_nfg", "default"): [0.999, 1.0, 0.997, 0.998, 1.0]})
    low, high = variants(wiring.scores_table(close, s)).axes[0].get_ylim()
    threshold = wiring.normalised(0.99, "accuracy", 0.25)
    assert low < threshold and high > 1.0 and high - low < 0.1
    failing = runs_table({("lstm", "default"): PERFECT,
                          ("lstm_nfg", "default"): [0.3, 0.3, 0.35, 0.3, 0.3]})
    low, _ = variants(wiring.scores_table(failing, s)).axes[0].get_ylim()
    assert low < wiring.normalised(0.3, "accuracy", 0.25)


def test_the_behaviour_and_rewire_figures_draw_from_their_tables():
    import matplotlib.pyplot as plt

    from gateroles.analyses.wiring import figures

    runs = runs_table({("lstm", "default"): PERFECT})
    behaviours = wiring.behaviour_table(behaviour_frame(
        {"lstm_nfg": {"recall_after_reset": 0.5}, "lstm_nig": {"recall_after_store": 0.4}}))
    writing = wiring.writing_table(writing_frame({"lstm": 0.9, "lstm_nig": 0.6}), runs)
    fig = figures.behaviours(behaviours, writing)
    assert len(fig.axes[0].patches) == 2 * len(N_SCORED)  # one bar per variant x behaviour
    plt.close(fig)
    scores, curves, distance, _ = rewire_inputs(0.3, 1.0, 0.8, 0.4)
    fig = figures.rewire(wiring.rewire_table(scores, distance, None), curves)
    assert len(fig.axes) >= 3
    plt.close(fig)
    plt.close(figures.two_positions(wiring.positions_table(positions_contrast("position"))))


def test_a_behaviour_learnt_later_counts_over_training():
    """Both models end perfect; the variant gets the answers after a RESET right only at the
    last checkpoint (drop 0.6 at the two before): over training, the drop is 0.6 x 2 / 3 on
    them and 0 elsewhere; at the last checkpoint, 0."""
    rows = []
    for arch in ("lstm", "lstm_nfg"):
        for step in (0, 100, 200, 400):
            for behaviour, n in N_SCORED.items():
                late = arch == "lstm_nfg" and behaviour == "recall_after_reset" \
                    and step in (100, 200)
                rows.append({"task": "reset_recall", "arch": arch, "init": "default",
                             "seed": 0, "step": step, "final_step": 400,
                             "behaviour": behaviour, "metric": "accuracy", "chance": 0.25,
                             "n_scored": n, "score": 1.0 - 0.6 * 0.75 * late, "solved": True})
    phases = wiring.behaviour_phases(wiring.behaviour_table(pd.DataFrame(rows)))
    nfg = phases[phases["arch"] == "lstm_nfg"].set_index(["phase", "behaviour"])["drop"]
    assert nfg[("over training", "recall_after_reset")] == pytest.approx(0.4)
    assert nfg[("final", "recall_after_reset")] == 0.0
    assert nfg[("over training", "recall_after_store")] == 0.0
    assert nfg[("initial", "recall_after_reset")] == 0.0
