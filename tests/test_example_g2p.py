"""The worked example (docs/own-model.md): g2p_en's pretrained GRU encoder-decoder, its weights
read from the installed package, checked against the package's own numpy network, then run
through the lens and the user-model workflow."""

import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from gateroles import gates
from gateroles.examples import g2p
from gateroles.lens import Lens

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def package_g2p():
    """The package's own G2p, imported offline: its import would try to download NLTK data
    (a tagger and a dictionary that its network does not use), so that step is a no-op here
    and the dictionary is empty (every word goes through the network)."""
    import nltk

    download = nltk.download
    nltk.download = lambda *args, **kwargs: False
    try:
        from g2p_en import g2p as module
    finally:
        nltk.download = download
    module.cmudict = types.SimpleNamespace(dict=dict)
    return module.G2p()


@pytest.fixture(scope="module")
def model():
    return g2p.pretrained()


def test_the_torch_model_is_the_packages_network(model, package_g2p):
    words = g2p.words()
    assert len(words) > 300 and {"abuse", "record", "present"} <= set(words)
    # the same pronunciation of every word, as the package's own greedy decoder gives it
    assert g2p.pronounce(model, words) == [package_g2p.predict(w) for w in words]
    # the encoder's every state, through gates.extract on the packed batch
    letters, lengths = g2p.encode(words[:40])
    hidden = gates.extract(model.encoder, model.enc_emb(letters).detach(),
                           lengths=lengths)["hidden"]
    for k, word in enumerate(words[:40]):
        own = package_g2p.gru(package_g2p.encode(word), len(word) + 1, package_g2p.enc_w_ih,
                              package_g2p.enc_w_hh, package_g2p.enc_b_ih, package_g2p.enc_b_hh)
        assert np.abs(own[0] - hidden[k, :len(word) + 1]).max() <= 1e-5, word


def test_the_lens_sees_the_encoder_and_the_decoder_stepped_in_python(model):
    words = g2p.words()[:30]
    letters, lengths = g2p.encode(words)
    with torch.no_grad():
        expected = model(letters, lengths)
    lens = Lens(model)
    assert list(lens.modules) == ["encoder", "decoder"]
    out, cache = lens.run_with_cache(letters, lengths)
    assert (out - expected).abs().max() <= 1e-4  # logits of ~10 from 256 states within 1e-6
    assert torch.equal(out.argmax(-1), expected.argmax(-1))
    update = cache["decoder.l0.fwd.update"]
    assert update.shape == (30, g2p.MAX_STEPS, 256)  # one step per call of the cell
    last = cache["encoder.l0.fwd.hidden"][torch.arange(30), lengths - 1]
    assert torch.allclose(cache["decoder.l0.fwd.hidden_previous"][:, 0], last, atol=1e-6)
    # the encoder's update gate held at 1 ("keep") at the end mark: the decoder starts from
    # the state before it, which changes the pronunciation of some words
    where = torch.as_tensor(g2p.letter_events(words, letters.shape[1])["word_end"])[..., None]
    kept = lens.run_with_hooks(letters, lengths, clamps={"encoder.l0.fwd.update": (where, 1.0)})
    assert (kept.argmax(-1) != expected.argmax(-1)).any()


@pytest.mark.slow
def test_the_user_model_workflow_on_the_example(tmp_path):
    g2p.write_example(tmp_path / "results" / "example_user_model", n_words=40)
    config = yaml.safe_load((REPO / "config" / "example_user_model.yaml").read_text())
    config["user_model"]["min_sequences"] = 5
    (tmp_path / "example.yaml").write_text(yaml.safe_dump(config))
    run = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"),
                          "--directory", str(tmp_path), "--cores", "2", "--configfile",
                          str(tmp_path / "example.yaml")], capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    page = (tmp_path / "results" / "user_model" / "g2p_en" / "report.html").read_text()
    assert "Gate roles in g2p_en" in page and "encoder.l0.fwd.update" in page
    assert page.count("data:image/png;base64") == 4
    viewer = (tmp_path / "results" / "user_model" / "g2p_en" / "viewer.html").read_text()
    assert "(matched interchange)" in viewer and '"encoder":' in viewer
    assert not (tmp_path / "results" / "report.html").exists()  # the study is not built
    assert not (tmp_path / "results" / "runs").exists()


def test_a_user_model_config_is_checked_at_parse_time(tmp_path):
    config = {"user_model": {"name": "mine", "factory": "nowhere.module:build",
                             "checkpoint": "model.pth", "inputs": "x.npz",
                             "events": "e.npz", "behaviour": "gateroles.examples.g2p:behaviours",
                             "windw": 3}}
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(config))
    run = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"),
                          "--directory", str(tmp_path), "-n", "--configfile",
                          str(tmp_path / "bad.yaml")], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode != 0
    message = run.stdout + run.stderr
    assert "config key 'user_model': Additional properties are not allowed ('windw'" in message
    assert "config key 'user_model.checkpoint': 'model.pth' does not match" in message
    del config["user_model"]["windw"]
    config["user_model"]["checkpoint"] = "model.pt"
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(config))
    run = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"),
                          "--directory", str(tmp_path), "-n", "--configfile",
                          str(tmp_path / "bad.yaml")], capture_output=True, text=True,
                         timeout=300)
    message = run.stdout + run.stderr
    assert "config key 'user_model.checkpoint': no file 'model.pt'" in message
    assert "config key 'user_model.factory': cannot find module 'nowhere.module'" in message


def test_the_docs_python_examples_run_as_written(tmp_path, monkeypatch):
    text = (REPO / "docs" / "own-model.md").read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    assert len(blocks) == 3
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "docs/own-model.md", "exec"), {})
    assert "update = 1 at the end mark" in (tmp_path / "g2p_viewer.html").read_text()
