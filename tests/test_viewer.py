"""The offline viewer: its data (encoding, the study's models, a lens run) and the page in a
real browser (Debian's chromium through Playwright; skipped where either is missing)."""

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from torch import nn

from gateroles import gatefile, gates
from gateroles.config import validate
from gateroles.lens import Lens
from gateroles.models import build_model, checkpoint_payload
from gateroles.storage import save_torch
from gateroles.study import Run
from gateroles.tasks import make_task
from gateroles.viewer import Settings, page, shown, study, user

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("GATEROLES_CHROMIUM", "/usr/bin/chromium")


def _config(**viewer) -> dict:
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["viewer"] = viewer
    validate(config, REPO / "config" / "schema.yaml")
    return config


def _data(html: str) -> dict:
    start = html.index("const D = ") + len("const D = ")
    return json.JSONDecoder().raw_decode(html[start:])[0]


# ---- encoding -------------------------------------------------------------------------------

def test_runs_and_perturbations_decode_to_their_values_within_a_code():
    rng = np.random.default_rng(0)
    free = {"forget": rng.random((2, 7, 3)).astype(np.float32),
            "cell": (rng.standard_normal((2, 7, 3)) * 3).astype(np.float32)}
    bumped = {k: v[:1].copy() for k, v in free.items()}
    bumped["forget"][:, 4:] = 1.0
    bumped["cell"][:, 5:] *= 2  # the shared scale covers the perturbed run's larger values
    b = page.Builder("t")
    entry = b.model({"model": "m"}, "s", "lstm", ["forget", "cell"], 3)
    run = b.run("last", free, "lstm", perturbed=[bumped])
    entry["runs"].append(run)
    b.perturbation(run, bumped, ["forget", "cell"], label="f = 1 from step 4")
    data = b.finish()
    got, pert = page.decode(data, 0, 0), page.decode(data, 0, 0, 0)
    m = max(np.abs(free["cell"]).max(), np.abs(bumped["cell"]).max())
    assert np.abs(got["forget"] - free["forget"]).max() <= 0.5 / 255 + 1e-6
    assert np.abs(got["cell"] - free["cell"]).max() <= m / 255 + 1e-6
    assert np.abs(pert["cell"] - bumped["cell"]).max() <= m / 255 + 1e-6
    assert np.array_equal(pert["forget"][:, :4], got["forget"][:1, :4])  # exact before step 4
    assert np.all(pert["forget"][:, 4:] == 1.0)
    assert tuple(data["models"][0]["runs"][0]["ranges"][1]) == (-float(m), float(m))


def test_the_page_is_one_file_that_no_string_can_break(tmp_path):
    b = page.Builder("</script><script>alert(1)</script>", notes=["<b>x</b>"])
    b.sequences("s", tokens=[["</script>", "a"]], events={"reset": np.array([[True, False]])},
                mask=np.array([[False, True]]), targets=np.array([[0, 1]]))
    entry = b.model({"model": "m"}, "s", "gru", ["update"], 1)
    entry["runs"].append(b.run("r", {"update": np.zeros((1, 2, 1))}, "gru"))
    path = page.write(b.finish(), tmp_path / "v.html")
    html = path.read_text()
    assert html.count("</script>") == 1 and "<script src" not in html
    assert "http://" not in html and "https://" not in html  # nothing fetched from anywhere
    assert _data(html)["title"] == "</script><script>alert(1)</script>"


def test_checkpoints_and_sequences_chosen():
    assert study.checkpoint_choice([0, 25, 50, 75, 100], 3) == [0, 50, 100]
    assert study.checkpoint_choice([0, 25], 3) == [0, 25]
    assert study.checkpoint_choice([0, 25, 50], 1) == [50]
    task = make_task("reset_recall", 20, 40, 0)
    meta = gatefile.task_arrays(task, 20)
    rows = study.choose_sequences(task.factors, json.loads(str(meta["meta"])), task.mask, 3)
    assert len(rows) == 3 and np.all(np.diff(rows) > 0)
    for row in rows:  # each shown sequence has a store, a reset and a query
        assert all(task.factors[f][row].any() for f in ("is_store", "is_reset", "is_query"))


def test_the_default_study_shows_every_main_seed_and_one_seed_of_the_rest():
    config = _config()
    models = shown(config)
    main = [(r, p) for r, p in models if r.arch in ("lstm", "gru") and r.init == "default"
            and r.task in config["study"]["tasks"]]
    assert all(p for _, p in main) and len(main) == len(config["study"]["tasks"]) * 2 * 5
    assert {r.seed for r, p in models if not p} == {0}
    assert Settings.from_config(config) == Settings()


# ---- the study's viewer ---------------------------------------------------------------------

def _write_run(folder: Path, task, arch: str, seed: int) -> dict:
    """A run's checkpoints: a fresh model at step 0, another draw at step 40 (the viewer makes
    their gate file itself, from the config's data)."""
    h = 6
    models = {0: build_model(arch, task.input_size, h, task.n_outputs, "default", 40, seed),
              40: build_model(arch, task.input_size, h, task.n_outputs, "default", 40,
                              seed + 100)}
    with torch.no_grad():
        for name, p in models[40].named_parameters():
            if "weight" in name:  # saturating, as trained gates are (held rows stay 0)
                p.mul_(3)
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"arch": arch, "input_size": task.input_size, "hidden_size": h,
            "n_outputs": task.n_outputs}
    save_torch(checkpoint_payload(meta, {s: m.state_dict() for s, m in models.items()}),
               folder / "checkpoints.pt")
    return {"checkpoints": str(folder / "checkpoints.pt")}


@pytest.fixture(scope="module")
def study_page(tmp_path_factory):
    """A study viewer of an LSTM and a GRU (two seeds each, perturbed) and an LSTM variant, on
    16 test sequences of 40 steps."""
    folder = tmp_path_factory.mktemp("viewer")
    config = _config(sequences=2, checkpoints=3, perturbed_sequences=1)
    config["data"].update(length=40, n_train=16, n_validation=16, n_test=16)
    config["extraction"]["n_sequences"] = 16
    models = []
    for seed in (0, 1):
        task = make_task("reset_recall", 16, 40, seed)
        for arch in ("lstm", "gru", "lstm_nfg"):
            if arch == "lstm_nfg" and seed:
                continue
            run = Run("reset_recall", arch, "default", seed)
            models.append({"run": run, **_write_run(folder / run.path, task, arch, seed),
                           "perturb": arch != "lstm_nfg", "causal": None})
    path = folder / "viewer.html"
    study.write(config, models, None, path)
    return path


def test_the_study_viewer_holds_each_model_its_checkpoints_and_perturbations(study_page):
    data = _data(study_page.read_text())
    keys = [m["keys"] for m in data["models"]]
    assert [(k["arch"], k["seed"]) for k in keys] == [("lstm", "0"), ("gru", "0"),
                                                       ("lstm_nfg", "0"), ("lstm", "1"),
                                                       ("gru", "1")]
    assert set(data["seqs"]) == {"reset_recall/seed0", "reset_recall/seed1"}
    lstm = data["models"][0]
    assert [r["label"] for r in lstm["runs"]] == ["step 0 (initial)", "step 40 (last)"]
    assert lstm["runs"][0]["perturbations"] == []
    perts = lstm["runs"][1]["perturbations"]
    labels = [p["label"] for p in perts]
    assert "forget at every reset event replaced by its own value at the nearest quiet step " \
           "(matched interchange)" in labels
    assert "forget clamped to 1 at every reset event (role-off clamp, sanity check)" in labels
    assert not data["models"][2]["runs"][-1]["perturbations"]  # a variant: not perturbed
    buf = page.buffer(data)
    free = page.decode(data, 0, 1, buf=buf)
    seq = data["seqs"]["reset_recall/seed0"]
    resets = seq["events"]["reset"][0]
    clamp = labels.index("forget clamped to 1 at every reset event (role-off clamp, sanity check)")
    clamped = page.decode(data, 0, 1, clamp, buf=buf)
    assert perts[clamp]["where"][0] == resets and resets
    assert np.all(clamped["forget"][0, resets] == 1.0)
    first = resets[0]
    for name in lstm["arrays"]:  # identical before the first perturbed step
        assert np.array_equal(clamped[name][0, :first], free[name][0, :first]), name
    assert not np.array_equal(clamped["cell"][0, first:], free["cell"][0, first:])
    assert {s["behaviour"] for s in perts[clamp]["scores"]} >= {"recall_after_reset"}
    scores = lstm["runs"][1]["scores"]
    assert set(scores["response"]) == {"store", "reset", "query"} and "memory" in scores


# ---- a user's model through the lens --------------------------------------------------------

class Tagger(nn.Module):
    """A user's model: an embedding, a 2-layer LSTM and a read-out."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(5, 4)
        self.rnn = nn.LSTM(4, 6, num_layers=2, batch_first=True)
        self.out = nn.Linear(6, 3)

    def forward(self, tokens):
        return self.out(self.rnn(self.emb(tokens))[0])


def test_from_lens_writes_the_users_tokens_events_checkpoints_and_perturbations(tmp_path):
    torch.manual_seed(0)
    model, initial = Tagger().eval(), Tagger().state_dict()
    tokens = torch.randint(0, 5, (6, 9))
    marks = (tokens == 3).numpy()
    where = torch.as_tensor(marks)[..., None]
    replaced = []

    def halve(activation, hook):
        replaced.append(hook.step)
        return activation * 0.5 if hook.step == 2 else None

    def score(out, inputs):
        return {"first_class": out.softmax(-1)[..., 0].mean(1)}

    path = user.from_lens(
        model, {"tokens": tokens}, tmp_path / "mine.html", events={"three": marks},
        tokens=[[f"w{t}" for t in row] for row in tokens.tolist()], sequences=[0, 2, 4],
        behaviour=score, checkpoints={"initial": initial},
        perturbations={"forget = 1 at each 3": {"rnn.l0.fwd.forget": (where, 1.0)},
                       "input halved at step 2": {"fwd_hooks": [("rnn.l1.fwd.input", halve)]}})
    data = _data(path.read_text())
    assert [m["keys"]["layer"] for m in data["models"]] == ["l0", "l1"]
    seq = data["seqs"]["rnn"]
    assert seq["tokens"][1] == [f"w{t}" for t in tokens[2].tolist()]
    assert seq["events"]["three"][0] == np.flatnonzero(marks[0]).tolist()
    layer0, layer1 = data["models"]
    assert [r["label"] for r in layer0["runs"]] == ["initial", "the model"]
    clamp, hook = layer0["runs"][1]["perturbations"]
    assert clamp["gate"] == "forget" and clamp["where"][0] == np.flatnonzero(marks[0]).tolist()
    assert hook["where"] == [[]] * 3 and "rnn.l1.fwd.input" in hook["note"]
    assert layer1["runs"][1]["perturbations"][1]["where"] == [[2]] * 3
    got = page.decode(data, 0, 1, 0)
    assert np.all(got["forget"][marks[[0, 2, 4]]] == 1.0)
    with Lens(model).hooks() as cache:
        model(tokens)
    free = page.decode(data, 1, 1)
    expected = cache["rnn.l1.fwd.input"].numpy()[[0, 2, 4]]
    assert np.abs(free["input"] - expected).max() < 0.5 / 255 + 1e-6
    assert clamp["scores"][0]["behaviour"] == "first_class"
    assert clamp["scores"][0]["study"][2] == 6
    assert 2 in replaced


def test_from_lens_explains_a_mask_of_the_wrong_shape(tmp_path):
    model = Tagger().eval()
    with pytest.raises(ValueError, match=r"'three' of module 'rnn' is \[6, 8\]; expected "
                                         r"\[N, T\] = \[6, 9\]"):
        user.from_lens(model, {"tokens": torch.zeros(6, 9, dtype=torch.long)},
                       tmp_path / "x.html", events={"three": np.zeros((6, 8), dtype=bool)})


# ---- in a real browser ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM}")
    with playwright.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        except Exception as exc:  # noqa: BLE001 - a browser that cannot start: skip, say why
            pytest.skip(f"chromium did not start: {exc}")
        yield b
        b.close()


def _open(browser, path: Path):
    """The page opened offline (every request but the file itself refused), ready; and the
    seconds it took."""
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    requested, errors = [], []
    pg.on("pageerror", lambda e: errors.append(str(e)))

    def only_the_file(route):
        requested.append(route.request.url)
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            route.abort()
    pg.route("**/*", only_the_file)
    start = time.perf_counter()
    pg.goto(path.as_uri())
    pg.wait_for_function("window.gv && (window.gv.ready || window.gv.error)", timeout=10000)
    seconds = time.perf_counter() - start
    assert pg.evaluate("gv.error") is None and not errors, errors
    assert requested == [path.as_uri()]
    return pg, seconds


def _shot(pg, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("GATEROLES_VIEWER_SHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_the_page_in_chromium_draws_what_is_chosen(browser, study_page, tmp_path):
    data = _data(study_page.read_text())
    buf = page.buffer(data)
    pg, seconds = _open(browser, study_page)
    drawn = pg.evaluate("gv.drawn.A")
    assert (drawn["model"], drawn["run"], drawn["array"]) == (
        "reset_recall · lstm · default · seed 0", "step 40 (last)", "input")
    t_len, h = 40, 6

    def values(a):
        return np.array(a["values"]).reshape(h, t_len).T  # [T, H]

    expected = page.decode(data, 0, 1, buf=buf)
    assert np.allclose(values(drawn), expected["input"][0], atol=1e-5)
    # the gate
    pg.select_option("#array", "forget")
    drawn = pg.evaluate("gv.drawn.A")
    assert drawn["array"] == "forget"
    assert np.allclose(values(drawn), expected["forget"][0], atol=1e-5)
    # the checkpoint
    pg.select_option("#run", "0")
    drawn = pg.evaluate("gv.drawn.A")
    assert drawn["run"] == "step 0 (initial)"
    assert np.allclose(values(drawn), page.decode(data, 0, 0, buf=buf)["forget"][0], atol=1e-5)
    # the order of the units: by memory-carrying score, largest first
    assert drawn["rows"] == list(range(h))
    pg.select_option("#sort", "memory")
    drawn = pg.evaluate("gv.drawn.A")
    score = page.scores(data, data["models"][0]["runs"][0]["scores"]["memory"], buf)
    assert drawn["rows"] == sorted(range(h), key=lambda u: (-score[u], u))
    assert drawn["rows"] != list(range(h)) or len(set(score)) == 1
    # hover: the value under the pointer
    box = pg.locator("#panelA canvas").bounding_box()
    geom = pg.evaluate("(() => { const g = current[0].geom; return [g.left, g.heatY, g.colW, "
                       "g.rowH]; })()")
    row, step = 2, 11
    pg.mouse.move(box["x"] + geom[0] + (step + 0.5) * geom[2],
                  box["y"] + geom[1] + (row + 0.5) * geom[3])
    tip = pg.inner_text("#tip")
    unit = drawn["rows"][row]
    value = page.decode(data, 0, 0, buf=buf)["forget"][0, step, unit]
    assert f"step {step}" in tip and f"unit {unit}: forget {value:.3f}" in tip
    # click: that unit's gates and states over time
    pg.mouse.click(box["x"] + geom[0] + (step + 0.5) * geom[2],
                   box["y"] + geom[1] + (row + 0.5) * geom[3])
    lines = pg.evaluate("gv.drawn.unit")
    assert lines["unit"] == unit
    assert set(lines["lines"]) == {"input", "forget", "cell_candidate", "output", "cell",
                                   "hidden"}
    initial = page.decode(data, 0, 0, buf=buf)
    assert np.allclose(lines["lines"]["forget"], initial["forget"][0, :, unit], atol=1e-5)
    _shot(pg, "study_step0_memory_unit", tmp_path)
    # step 0 against trained
    pg.select_option("#compare", "run:1")
    second = pg.evaluate("gv.drawn.B")
    assert second["run"] == "step 40 (last)" and second["rows"] == drawn["rows"]
    # free against perturbed: the clamp at the resets, at the last checkpoint
    pg.select_option("#run", "1")
    perts = data["models"][0]["runs"][1]["perturbations"]
    clamp = [p["label"] for p in perts].index(
        "forget clamped to 1 at every reset event (role-off clamp, sanity check)")
    pg.select_option("#compare", f"pert:{clamp}")
    first, second = pg.evaluate("[gv.drawn.A, gv.drawn.B]")
    assert second["pert"] == perts[clamp]["label"]
    resets = perts[clamp]["where"][0]
    a, b = values(first), values(second)
    assert np.array_equal(a[:resets[0]], b[:resets[0]]) and np.all(b[resets] == 1.0)
    assert "recall_after_reset" in pg.inner_text("#pinfo")
    _shot(pg, "study_clamp", tmp_path)
    pg.select_option("#mode", "diff")
    diff = pg.evaluate("gv.drawn.B")
    assert diff["diff"] and np.allclose(values(diff), b - a, atol=1e-5)
    # another model on the same sequence: the GRU
    pg.select_option("#compare", "model:1:1")
    second = pg.evaluate("gv.drawn.B")
    assert second["model"] == "reset_recall · gru · default · seed 0"
    assert second["missing"] == "reset_recall · gru · default · seed 0 has no forget"
    pg.select_option("#array", "hidden")
    second = pg.evaluate("gv.drawn.B")
    assert second["array"] == "hidden"
    assert np.allclose(values(second), page.decode(data, 1, 1, buf=buf)["hidden"][0], atol=1e-5)
    _shot(pg, "study_lstm_gru", tmp_path)
    # another model: the seed's selects, and the view kept in the address
    pg.select_option("#dims select[data-dim=seed]", "1")
    assert pg.evaluate("gv.drawn.A")["model"] == "reset_recall · lstm · default · seed 1"
    assert "m=reset_recall%2Flstm%2Fdefault%2F1" in pg.url
    # every redraw well under 100 ms
    times = pg.evaluate("""(() => { const out = [];
        for (const a of ['input', 'forget', 'cell', 'hidden', 'output'])
          out.push(gv.set({array: a}));
        out.push(gv.set({sort: 'response:reset'}), gv.set({compare: 'run:0'}),
                 gv.set({mode: 'diff'}), gv.set({seq: 1}));
        return out; })()""")
    print(f"\nviewer: opened in {seconds:.2f} s; redraws {max(times):.1f} ms at most")
    assert len(times) == 9 and all(t >= 0 for t in times)


def test_a_users_model_in_chromium(browser, tmp_path):
    torch.manual_seed(1)
    model = Tagger().eval()
    tokens = torch.randint(0, 5, (4, 12))
    marks = (tokens == 3).numpy()
    path = user.from_lens(model, (tokens,), tmp_path / "mine.html", events={"three": marks},
                          tokens=[[f"w{t}" for t in row] for row in tokens.tolist()],
                          perturbations={"forget = 1 at each 3": {
                              "rnn.l0.fwd.forget": (torch.as_tensor(marks)[..., None], 1.0)}})
    pg, seconds = _open(browser, path)
    pg.select_option("#compare", "pert:0")
    first, second = pg.evaluate("[gv.drawn.A, gv.drawn.B]")
    assert second["pert"] == "forget = 1 at each 3" and first["model"] == "rnn · l0 · fwd"
    assert "input w" in pg.evaluate("describe(current[0], 0, 0)")
    _shot(pg, "user_clamp", tmp_path)


def _default_sized_page(path: Path) -> Path:
    """A page of the default study's shape (62 models, 40 of them with 10 perturbations; 3
    checkpoints, 2 sequences of 100 steps, 32 units), its activations smooth random walks."""
    rng = np.random.default_rng(0)
    b = page.Builder("default-sized")
    n, t_len, h = 2, 100, 32
    for task in ("reset_recall", "armed_reset", "count_reset", "adding"):
        for seed in range(5):
            b.sequences(f"{task}/{seed}", tokens=[["·"] * t_len] * n,
                        events={"reset": rng.random((n, t_len)) < 0.05,
                                "store": rng.random((n, t_len)) < 0.1},
                        mask=rng.random((n, t_len)) < 0.1,
                        targets=np.zeros((n, t_len), dtype=int), classes=["0", "1"])

    def walk(shape):
        return np.cumsum(rng.standard_normal(shape) * 0.3, axis=1)

    for k in range(62):
        arch = ("lstm", "gru")[k % 2]
        names = list(gates.gate_names(arch))
        task = ("reset_recall", "armed_reset", "count_reset", "adding")[k % 4]
        entry = b.model({"model": str(k)}, f"{task}/{k % 5}", arch, names, h)
        for step in (0, 50, 100):
            free = {a: np.tanh(walk((n, t_len, h))) if page.kind(a, arch) != "gate"
                    else 1 / (1 + np.exp(-walk((n, t_len, h)))) for a in names}
            perturbed = []
            if step == 100 and k < 40:
                for _ in range(10):
                    p = {a: v[:1].copy() for a, v in free.items()}
                    for a in p:
                        p[a][:, 50:] = np.clip(p[a][:, 50:] + walk((1, 50, h)) * 0.1, -1, 1)
                    perturbed.append(p)
            run = b.run(f"step {step}", free, arch, perturbed=perturbed,
                        scores={"response": {"reset": {a: b.score(rng.random(h))
                                                       for a in names}}})
            entry["runs"].append(run)
            for p in perturbed:
                b.perturbation(run, p, names, label="p", gate=names[0], where=[[50]], n=1)
    return page.write(b.finish(), path)


def test_a_page_of_the_default_studys_size_opens_and_redraws(browser, tmp_path):
    """Opens offline without errors and answers every kind of change (how fast: a benchmark,
    benchmarks/bench_viewer.py, not a timed test)."""
    path = _default_sized_page(tmp_path / "big.html")
    pg, seconds = _open(browser, path)
    times = pg.evaluate("""(() => { const out = [];
        for (const change of [{array: 'forget'}, {sort: 'response:reset'}, {run: 0},
            {compare: 'run:2'}, {mode: 'diff'}, {model: 17}, {run: 2}, {compare: 'pert:3'},
            {seq: 1}, {unit: 5}, {array: 'cell'}])
          out.push(gv.set(change));
        return out; })()""")
    print(f"\nviewer of the default study's size ({path.stat().st_size / 1e6:.1f} MB): opened in "
          f"{seconds:.2f} s; redraws {max(times):.1f} ms at most")
    assert len(times) == 11 and pg.evaluate("gv.error") is None
