"""The real-text task charlm: corpus, per-character factors from Python's tokenizer, splits."""

import numpy as np
import pytest

from gateroles import tasks
from gateroles.tasks import CHARLM_VOCAB, make_splits, make_task


def test_spans_mark_strings_comments_and_brackets_exactly():
    text = 'x = f(a, "(#)")  # c(\ny = [1, {2: 3}]\n'
    in_string, in_comment, change = tasks._spans(text)
    depth = np.cumsum(change)
    assert "".join(c for c, s in zip(text, in_string, strict=True) if s) == '"(#)"'
    assert "".join(c for c, s in zip(text, in_comment, strict=True) if s) == "# c("
    # brackets inside the string and the comment do not count
    assert depth[text.index("(")] == 1 and depth[text.index(")  #")] == 0
    assert depth[text.index("{")] == 2 and depth[text.index("}")] == 1
    assert depth[-1] == 0


def test_factors_are_aligned_with_the_characters():
    task = make_splits("charlm", {"test": 40}, 80, seed=1)["test"]
    chars = np.array(list(CHARLM_VOCAB + "?"))[task.tokens]
    assert np.array_equal(task.factors["is_newline"] == 1, chars == "\n")
    # the column restarts after every newline (bucket 0 = columns 0..3)
    after = np.zeros_like(chars, dtype=bool)
    after[:, 1:] = chars[:, :-1] == "\n"
    assert (task.factors["column"][after] == 0).all()
    assert set(np.unique(task.factors["bracket_depth"])) <= {0, 1, 2, 3}
    hashes = task.factors["in_comment"] == 1
    assert hashes.any() and (task.factors["in_string"][hashes] == 0).all()
    # targets are the next character
    assert np.array_equal(task.targets[:, :-1], task.tokens[:, 1:])
    assert task.inputs.shape == (40, 80, len(CHARLM_VOCAB) + 1)
    assert task.n_outputs == len(CHARLM_VOCAB) + 1 and 0.1 < task.chance < 0.5


def test_corpus_is_recorded_and_splits_are_held_out_regions():
    splits = make_splits("charlm", {"train": 30, "validation": 10, "test": 10}, 50, seed=0)
    meta = splits["test"].meta
    assert len(meta["corpus_sha256"]) == 64 and meta["corpus_files"] > 50
    assert meta == splits["train"].meta
    files = tasks.charlm_files()
    assert files == sorted(files) and all(f.suffix == ".py" for f in files)
    # deterministic; a different seed samples other windows
    again = make_splits("charlm", {"test": 10}, 50, seed=0)["test"]
    assert np.array_equal(again.tokens, splits["test"].tokens)
    assert not np.array_equal(make_splits("charlm", {"test": 10}, 50, seed=1)["test"].tokens,
                              again.tokens)
    # no test window overlaps the training region (last 10 % of the characters)
    corpus = tasks._charlm_corpus()
    total = len(corpus["ids"])
    ids = corpus["ids"]
    first_test = int(0.9 * total)
    train_text = ids[:first_test].astype(np.uint8).tobytes()
    assert ids[first_test:].astype(np.uint8).tobytes().find(
        splits["test"].tokens[0].astype(np.uint8).tobytes()) >= 0
    for row in splits["test"].tokens:
        assert train_text.find(row.astype(np.uint8).tobytes()) == -1


def test_bad_params_and_lengths():
    with pytest.raises(ValueError, match="max_depth"):
        make_task("charlm", 2, 10, seed=0, max_depth=0)
    with pytest.raises(ValueError, match="max_dpth"):
        make_task("charlm", 2, 10, seed=0, max_dpth=2)
