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
from gateroles.analyses.wiring.measure import ATTRIBUTION, EFFECT
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

    cfg = config(tasks=["reset_recall"], rewire={"enabled": True, "steps": 20,
                                                 "first_checkpoint": 5})
    cfg["data"].update(length=20, n_train=64, n_validation=32, n_test=32)
    cfg["model"]["hidden_size"] = H
    cfg["training"].update(steps={**cfg["training"]["steps"], "reset_recall": 20},
                           eval_every=10, batch_size=16)
    run = Run("reset_recall", "lstm", "default", 2)
    paths = {k: str(tmp_path / f"{k}.{ext}") for k, ext in
             (("ckpt", "pt"), ("log", "csv"), ("test", "json"))}
    train_run(cfg, run, checkpoints_path=paths["ckpt"], log_path=paths["log"],
              test_path=paths["test"])
    out = {k: str(tmp_path / f"rewire_{k}") for k in ("ckpt.pt", "log.csv", "scores.csv",
                                                      "test.json")}
    rewire_run(cfg, run, start_path=paths["ckpt"], checkpoints_path=out["ckpt.pt"],
               log_path=out["log.csv"], scores_path=out["scores.csv"],
               test_path=out["test.json"])
    original = models_from_payload(storage.load_torch(paths["ckpt"]))
    expected = swap_blocks(original[max(original)], "forget", "input").state_dict()
    payload = storage.load_torch(out["ckpt.pt"])
    assert sorted(int(s) for s in payload["steps"]) == [0, 5, 10, 20]
    for name, value in expected.items():
        assert torch.equal(payload["steps"]["0"][name], value), name
    scores = storage.read_csv(out["scores.csv"])
    test = storage.read_json(out["test.json"])
    assert list(scores["step"]) == [0, 5, 10, 20]
    assert test["test_score_swapped"] == pytest.approx(scores["test_score"].iloc[0])
    assert test["test_score_original"] == pytest.approx(
        storage.read_json(paths["test"])["test_score"])


# --------------------------------------------------------------------------- the grid


def test_grid_adds_the_c4_cells_once_and_main_only_leaves_them_out():
    cfg = config(tasks=["reset_recall", "count_reset"], forget_bias_tasks=["count_reset"])
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
    no_wiring["controls"]["tasks"] = []
    assert study.cells(no_wiring) == study.cells(no_wiring, main_only=True)
    # the negative controls' cells: each control architecture on each control task, once
    only_controls = config(tasks=[], forget_bias_tasks=[])
    added = set(study.cells(only_controls)) - set(study.cells(only_controls, main_only=True))
    assert added == {study.Cell(t, a, "default") for t in only_controls["controls"]["tasks"]
                     for a in only_controls["controls"]["architectures"]}


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


# --------------------------------------------------------------------------- verdicts


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


def variant_rows(runs: pd.DataFrame, measure="lower test score", **wiring_settings
                 ) -> pd.DataFrame:
    """The variants' verdict rows of one measure (the score, or the steps to solve), by arch."""
    s = settings(tasks=["reset_recall"], **wiring_settings)
    rows = pd.DataFrame(wiring.variant_verdicts(wiring.scores_table(runs, s), s, STATS))
    keep = rows["prediction"].str.endswith(measure) | (rows["arch"] == "lstm_cifg")
    return rows[keep].set_index("arch")


def test_a_variant_that_fails_where_its_gate_is_needed_is_supported():
    runs = runs_table({("lstm", "default"): PERFECT,
                       ("lstm_nfg", "default"): [0.55, 0.6, 0.52, 0.58, 0.61]})
    row = variant_rows(runs, architectures=["lstm_nfg"]).loc["lstm_nfg"]
    assert row["verdict"] == "supported" and row["change"] < -0.4
    assert np.isnan(row["initial"]) and "trained difference" in row["note"]


def test_a_variant_that_solves_but_slower_degrades_in_steps_to_solve():
    """Both at the ceiling: the score cannot show it, the steps to solve do; a seed that never
    solves counts at the cap (budget + one validation interval)."""
    runs = runs_table({("lstm", "default"): PERFECT,
                       ("lstm_nfg", "default"): [0.999, 1.0, 0.997, 0.998, 1.0]})
    nfg = runs["arch"] == "lstm_nfg"
    runs.loc[nfg, "steps_to_solve"] = [325.0, 400.0, 350.0, np.nan, 275.0]
    row = variant_rows(runs, "more steps to solve", architectures=["lstm_nfg"]).loc["lstm_nfg"]
    assert row["verdict"] == "supported"
    assert row["change"] == pytest.approx((325 + 400 + 350 + 425 + 275) / 5 - 150)
    assert "never = 425" in row["note"]


def test_a_variant_no_worse_than_the_lstm_is_not_supported():
    runs = runs_table({("lstm", "default"): PERFECT,
                       ("lstm_nfg", "default"): [0.999, 1.0, 0.997, 0.998, 1.0]})
    for measure in ("lower test score", "more steps to solve"):
        row = variant_rows(runs, measure, architectures=["lstm_nfg"]).loc["lstm_nfg"]
        assert row["verdict"] != "supported"


def test_the_score_is_untestable_where_both_runs_are_perfect_and_the_steps_decide():
    """Every paired seed of both runs at 1.0: the score difference is 0 whatever the gate
    does, so that row is untestable; one imperfect seed makes it
    testable again, and the steps-to-solve row is decided either way."""
    runs = runs_table({("lstm", "default"): [1.0] * 5, ("lstm_nfg", "default"): [1.0] * 5})
    runs.loc[runs["arch"] == "lstm_nfg", "steps_to_solve"] = [325.0, 400.0, 350.0, 300.0, 275.0]
    score = variant_rows(runs, architectures=["lstm_nfg"]).loc["lstm_nfg"]
    assert score["verdict"] == "untestable" and "ceiling" in score["note"]
    steps = variant_rows(runs, "more steps to solve", architectures=["lstm_nfg"])
    assert steps.loc["lstm_nfg", "verdict"] == "supported"
    runs.loc[(runs["arch"] == "lstm_nfg") & (runs["seed"] == SEEDS[0]), "test_score"] = 0.999
    assert variant_rows(runs, architectures=["lstm_nfg"]).loc["lstm_nfg", "verdict"] in (
        "inconclusive", "contradicted")


def test_a_variant_better_than_the_lstm_contradicts_the_prediction():
    runs = runs_table({("lstm", "default"): [0.8, 0.82, 0.79, 0.81, 0.8],
                       ("rnn", "default"): [0.95, 0.96, 0.97, 0.95, 0.96]}, threshold=0.75)
    assert variant_rows(runs, architectures=["rnn"]).loc["rnn", "verdict"] == "contradicted"


def test_seeds_whose_lstm_failed_are_left_out_and_counted():
    runs = runs_table({("lstm", "default"): [1.0, 1.0, 0.3, 1.0, 1.0],
                       ("lstm_nfg", "default"): [0.5, 0.5, 0.5, 0.5, 0.5]})
    row = variant_rows(runs, architectures=["lstm_nfg"]).loc["lstm_nfg"]
    assert row["n_seeds"] == 4 and row["n_unsolved"] == 1
    assert row["verdict"] == "insufficient seeds"
    steps = variant_rows(runs, "more steps to solve", architectures=["lstm_nfg"])
    assert steps.loc["lstm_nfg", "n_seeds"] == 4


def test_coupling_costs_little_needs_an_equivalence_test():
    close = runs_table({("lstm", "default"): PERFECT,
                        ("lstm_cifg", "default"): [0.999, 0.998, 1.0, 0.999, 0.998]})
    assert variant_rows(close, architectures=["lstm_cifg"]).loc[
        "lstm_cifg", "verdict"] == "equivalent"
    noisy = runs_table({("lstm", "default"): PERFECT,
                        ("lstm_cifg", "default"): [1.0, 0.9, 1.0, 0.95, 0.999]})
    assert variant_rows(noisy, architectures=["lstm_cifg"]).loc[
        "lstm_cifg", "verdict"] == "not shown"
    worse = runs_table({("lstm", "default"): PERFECT,
                        ("lstm_cifg", "default"): [0.6, 0.62, 0.61, 0.6, 0.63]})
    assert variant_rows(worse, architectures=["lstm_cifg"]).loc[
        "lstm_cifg", "verdict"] == "not equivalent"


def test_no_prediction_where_the_task_does_not_need_the_gate():
    runs = runs_table({("lstm", "default"): PERFECT,
                       ("lstm_nog", "default"): [0.5] * 5}, task="count_reset")
    s = settings(tasks=["count_reset"], architectures=["lstm_nog"])
    assert wiring.variant_verdicts(wiring.scores_table(runs, s), s, STATS) == []


def test_normalised_score_is_one_at_perfect_and_zero_at_chance():
    np.testing.assert_allclose(
        wiring.normalised([1.0, 0.25, 0.0, 1 / 6], ["accuracy", "accuracy", "mse", "mse"],
                          [0.25, 0.25, 1 / 6, 1 / 6]), [1.0, 0.0, 1.0, 0.0])


def positions_table(follows: str, rng_seed: int = 0) -> pd.DataFrame:
    """Per-seed event effects of blocks f0 and i0 in the two runs, trained and at step 0.

    follows = "position": the gate in the forget position drops at resets (-0.3) and the one
    in the input position rises at stores (+0.3), whichever block it is; "block": block f0
    behaves like a forget gate and i0 like an input gate in both runs. At step 0 nothing.
    """
    rng = np.random.default_rng(rng_seed)
    rows = []
    for seed in SEEDS:
        for init in ("default", wiring.SWAP):
            for position in ("forget", "input"):
                block = wiring.BLOCK_AT[init, position]
                role = position if follows == "position" else {"f0": "forget",
                                                               "i0": "input"}[block]
                for event in ("reset", "store"):
                    trained = ((-0.3 if role == "forget" and event == "reset" else 0.0)
                               + (0.3 if role == "input" and event == "store" else 0.0))
                    for phase, value in (("trained", trained), ("initial", 0.0)):
                        rows.append({"task": "reset_recall", "seed": seed, "phase": phase,
                                     "init": init, "position": position, "block": block,
                                     "measure": EFFECT, "event": event, "solved": True,
                                     "value": value + rng.normal(0, 0.02)})
            for term, position in (("erase", "forget"), ("write", "input")):
                block = wiring.BLOCK_AT[init, position]
                learned = follows == "position" or (block == "f0") == (position == "forget")
                for phase, value in (("trained", 0.4 if learned else 0.0), ("initial", 0.0)):
                    rows.append({"task": "reset_recall", "seed": seed, "phase": phase,
                                 "init": init, "position": position, "block": block,
                                 "measure": ATTRIBUTION, "event": wiring.TERM_EVENT[term],
                                 "solved": True, "value": value + rng.normal(0, 0.02)})
    return pd.DataFrame(rows)


def test_roles_that_follow_the_position_are_supported():
    rows = pd.DataFrame(wiring.position_verdicts(positions_table("position"), STATS))
    assert len(rows) == 8
    assert set(stats.adjust_verdicts(rows, 0.95)["verdict"]) == {"supported"}


def test_attribution_is_untestable_where_the_default_run_does_not_show_it():
    table = positions_table("position")
    attribution = table["measure"] == ATTRIBUTION
    table.loc[attribution, "value"] = np.random.default_rng(1).normal(0, 0.02,
                                                                      attribution.sum())
    rows = pd.DataFrame(wiring.position_verdicts(table, STATS))
    swap_rows = rows[rows["init"] == wiring.SWAP]
    assert len(swap_rows) == 2 and set(swap_rows["verdict"]) == {"untestable"}
    assert swap_rows["note"].str.contains("default run").all()


def test_roles_that_follow_the_starting_block_are_not():
    rows = pd.DataFrame(wiring.position_verdicts(positions_table("block"), STATS))
    verdicts = dict(zip(rows["prediction"], rows["verdict"], strict=True))
    # each block behaves the same in both positions: the within-block contrasts go the
    # wrong way for one block, and the position never beats the block
    assert "supported" not in [v for p, v in verdicts.items() if "explains more" in p]
    assert sum(v == "contradicted" for v in verdicts.values()) >= 2
    assert verdicts["block i0, trained in the forget position, does more of the erasing at "
                    "resets than elsewhere"] != "supported"


def test_positions_table_pairs_the_two_runs_by_block():
    base = {"task": "reset_recall", "arch": "lstm", "event": "reset", "rest": 0.5,
            "at_event": 0.5, "cohens_d": 0.0, "n_events": 10, "final_step": 400}
    rows = []
    for init, solved in (("default", True), (wiring.SWAP, True)):
        for seed in SEEDS:
            for gate, value in (("forget", -0.3), ("input", 0.1), ("output", 0.0)):
                for step in (0, 400):
                    rows.append({**base, "init": init, "seed": seed, "gate": gate,
                                 "step": step, "difference": value if step else 0.0,
                                 "solved": solved and seed != 4})
    table = wiring.positions_table(pd.DataFrame(rows), None)
    assert set(table["position"]) == {"forget", "input"}
    f0 = table[(table["block"] == "f0") & (table["phase"] == "trained")]
    pairs = set(zip(f0["init"], f0["position"], strict=True))
    assert pairs == {("default", "forget"), (wiring.SWAP, "input")}
    assert not table.loc[table["seed"] == 4, "solved"].any()
    assert table.loc[table["seed"] != 4, "solved"].all()


def rewire_inputs(recovers: bool):
    """Synthetic rewire scores and effects for 5 seeds: the swap breaks the model; fine-tuning
    either recovers it and moves each position's effect to the original's, or neither."""
    scores, effects, contrast = [], [], []
    for seed in SEEDS:
        for step in (0, 5, 400):
            late = recovers and step == 400
            scores.append({"task": "reset_recall", "arch": "lstm", "init": "default",
                           "seed": seed, "step": step, "final_step": 400, "solved": True,
                           "score": 1.0 if late else 0.4 + 0.01 * seed, "metric": "accuracy",
                           "chance": 0.25, "score_original": 1.0,
                           "steps_to_solve_again": 75.0 if recovers else np.nan})
            for gate, event, start, end in (("forget", "reset", 0.05, -0.3),
                                            ("input", "store", -0.05, 0.3)):
                value = (end if late else start) + 0.01 * seed
                effects.append({"task": "reset_recall", "arch": "lstm", "init": "default",
                                "seed": seed, "step": step, "final_step": 400, "solved": True,
                                "measure": EFFECT, "gate": gate, "event": event,
                                "value": value})
        for gate, event, value in (("forget", "reset", -0.3), ("input", "store", 0.3)):
            contrast.append({"task": "reset_recall", "arch": "lstm", "init": "default",
                             "seed": seed, "gate": gate, "event": event, "difference": value,
                             "step": 400, "final_step": 400, "solved": True})
    runs = runs_table({("lstm", "default"): PERFECT})
    runs["steps_to_solve"] = [150.0, 175.0, 150.0, 200.0, 125.0]
    return pd.DataFrame(scores), pd.DataFrame(effects), pd.DataFrame(contrast), runs


@pytest.mark.parametrize("recovers", [True, False])
def test_rewiring_verdicts(recovers):
    scores, effects, contrast, runs = rewire_inputs(recovers)
    s = settings(tasks=["reset_recall"])
    table = wiring.rewire_table(scores, effects, contrast, runs, s)
    rows = pd.DataFrame(wiring.rewire_verdicts(table, scores, runs, s, STATS))
    verdicts = dict(zip(rows["prediction"].str.split(" ").str[:4].str.join(" "),
                        rows["verdict"], strict=True))
    assert verdicts["the swap breaks the"] == "supported"
    assert (verdicts["fine-tuning recovers the task"] == "supported") == recovers
    # never solved again within the fine-tuning budget: counted at the cap, slower than the
    # original's 125-200 steps from step 0
    assert verdicts["solved again sooner than"] == ("supported" if recovers
                                                    else "contradicted")
    for key in ("the gate in the", "the positions' event effects"):
        assert {v for k, v in verdicts.items() if k.startswith(key)} == (
            {"supported"} if recovers else {"inconclusive"})


def test_aggregate_on_empty_inputs_writes_every_table():
    s = settings(tasks=["reset_recall"])
    out = wiring.aggregate({}, runs_table({("lstm", "default"): PERFECT}), s, STATS)
    assert {"scores", "variants", "ranking", "gap", "positions", "rewire", "curves",
            "c4"} <= set(out)
    assert out["c4"].empty and list(out["c4"].columns[:3]) == ["claim", "evidence",
                                                               "prediction"]
    # every table has its header even when empty (the report reads each one back)
    assert all(len(table.columns) for table in out.values()), [
        name for name, table in out.items() if not len(table.columns)]


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
