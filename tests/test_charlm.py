"""The real-text task charlm: corpus, per-character factors from Python's tokenizer, splits."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gateroles.tasks import charlm, make_splits, make_task
from gateroles.tasks.charlm import CHARLM_VOCAB

# The pinned corpus: snakemake 9.27.1's *.py files (the same bytes on every platform).
CORPUS_SHA256 = "c960a6df26a2d123f415155546ea872b5af3bc2b6082b278554552e502328551"
CORPUS_FILES, CORPUS_CHARS = 132, 1343728


def test_spans_mark_strings_comments_and_brackets_exactly():
    text = 'x = f(a, "(#)")  # c(\ny = [1, {2: 3}]\n'
    in_string, in_comment, change = charlm._spans(text)
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
    files = charlm.charlm_files()
    root = charlm._charlm_root()
    relative = [f.relative_to(root).as_posix() for f in files]
    assert relative == sorted(relative) and all(f.suffix == ".py" for f in files)
    assert "__init__.py" in relative and any("/" in r for r in relative)  # subpackages too
    # deterministic; a different seed samples other windows
    again = make_splits("charlm", {"test": 10}, 50, seed=0)["test"]
    assert np.array_equal(again.tokens, splits["test"].tokens)
    assert not np.array_equal(make_splits("charlm", {"test": 10}, 50, seed=1)["test"].tokens,
                              again.tokens)
    # no test window overlaps the training region (last 10 % of the characters)
    corpus = charlm._charlm_corpus()
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


# --------------------------------------------------------------------------- pinned corpus


def test_corpus_is_the_pinned_package_and_meta_has_no_paths():
    meta = make_task("charlm", 2, 20, seed=0).meta
    assert meta == {"corpus_package": "snakemake", "corpus_version": "9.27.1",
                    "corpus_files": CORPUS_FILES, "corpus_chars": CORPUS_CHARS,
                    "corpus_sha256": CORPUS_SHA256}
    assert (charlm.CHARLM_PACKAGE, charlm.CHARLM_PACKAGE_VERSION) == ("snakemake", "9.27.1")
    # the pin is the project's own dependency pin
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert '"snakemake[reports]==9.27.1"' in pyproject
    assert len(charlm.charlm_files()) == CORPUS_FILES
    # large enough for the splits at paper scale (the test region alone is ~134k characters)
    assert CORPUS_CHARS > 1_000_000


def test_another_installed_version_is_an_error(monkeypatch):
    monkeypatch.setattr(charlm, "CHARLM_PACKAGE_VERSION", "0.0.1")
    with pytest.raises(ValueError, match=r"snakemake==0\.0\.1.*snakemake 9\.27\.1 is installed"):
        charlm.charlm_files()
    monkeypatch.setattr(charlm, "CHARLM_PACKAGE", "no_such_package_gateroles")
    with pytest.raises(ValueError, match="not installed"):
        charlm.charlm_files()


# --------------------------------------------------------------------------- f-strings

# Python >= 3.12 tokens of TEXT_312 (checked against a real 3.12+ tokenizer below, when one is
# installed): two f-strings, the second nested inside another, then a comment.
TEXT_312 = """v = f"{x:{w}}" + g(f'{f"{a}"}')  # (c\n"""
TOKENS_312 = [
    ("NAME", "v", (1, 0), (1, 1)), ("OP", "=", (1, 2), (1, 3)),
    ("FSTRING_START", 'f"', (1, 4), (1, 6)), ("OP", "{", (1, 6), (1, 7)),
    ("NAME", "x", (1, 7), (1, 8)), ("OP", ":", (1, 8), (1, 9)), ("OP", "{", (1, 9), (1, 10)),
    ("NAME", "w", (1, 10), (1, 11)), ("OP", "}", (1, 11), (1, 12)),
    ("FSTRING_MIDDLE", "", (1, 12), (1, 12)), ("OP", "}", (1, 12), (1, 13)),
    ("FSTRING_END", '"', (1, 13), (1, 14)), ("OP", "+", (1, 15), (1, 16)),
    ("NAME", "g", (1, 17), (1, 18)), ("OP", "(", (1, 18), (1, 19)),
    ("FSTRING_START", "f'", (1, 19), (1, 21)), ("OP", "{", (1, 21), (1, 22)),
    ("FSTRING_START", 'f"', (1, 22), (1, 24)), ("OP", "{", (1, 24), (1, 25)),
    ("NAME", "a", (1, 25), (1, 26)), ("OP", "}", (1, 26), (1, 27)),
    ("FSTRING_END", '"', (1, 27), (1, 28)), ("OP", "}", (1, 28), (1, 29)),
    ("FSTRING_END", "'", (1, 29), (1, 30)), ("OP", ")", (1, 30), (1, 31)),
    ("COMMENT", "# (c", (1, 33), (1, 37)), ("NEWLINE", "\n", (1, 37), (1, 38)),
    ("ENDMARKER", "", (2, 0), (2, 0)),
]


def _marked(text, marks):
    return "".join(c if m else "_" for c, m in zip(text, marks, strict=True))


def _check_text_312(text, spans):
    in_string, in_comment, change = spans
    # each f-string, replacement fields and nested f-strings included, is one string
    assert _marked(text, in_string) == "____" + 'f"{x:{w}}"' + "_____" + "f'{f\"{a}\"}'" + "_" * 8
    assert _marked(text, in_comment) == "_" * 33 + "# (c" + "_"
    # the only brackets: g( ... ); none inside the f-strings or the comment
    depth = np.cumsum(change)
    assert list(np.flatnonzero(change)) == [text.index("("), text.index(")")]
    assert depth[text.index("(") : text.index(")")].min() == 1 and depth[-1] == 0


def test_nested_fstrings_from_hand_made_312_tokens():
    _check_text_312(TEXT_312, charlm._spans_from_tokens(TEXT_312, TOKENS_312))
    # the 3.11 tokenizer (one STRING per f-string) gives the same factors
    if sys.version_info < (3, 12):
        for x, y in zip(charlm._spans(TEXT_312), charlm._spans_from_tokens(TEXT_312, TOKENS_312),
                        strict=True):
            np.testing.assert_array_equal(x, y)


def test_unbalanced_fstring_tokens_are_an_error():
    text = 'f"a"\n'
    start = ("FSTRING_START", 'f"', (1, 0), (1, 2))
    end = ("FSTRING_END", '"', (1, 3), (1, 4))
    with pytest.raises(ValueError, match="closes no f-string"):
        charlm._spans_from_tokens(text, [end])
    with pytest.raises(ValueError, match="not closed"):
        charlm._spans_from_tokens(text, [start])
    in_string, _, _ = charlm._spans_from_tokens(text, [start, end])
    assert _marked(text, in_string) == 'f"a"_'


# --- the same logic on the tokens of a real Python >= 3.12 tokenizer, run in a subprocess

_DUMP_TOKENS = """
import io, json, sys, tokenize
keep = {"STRING", "COMMENT", "OP", "FSTRING_START", "FSTRING_END", "TSTRING_START",
        "TSTRING_END"}
out = [[[tokenize.tok_name[t.type], t.string, t.start, t.end]
        for t in tokenize.generate_tokens(io.StringIO(text).readline)
        if tokenize.tok_name[t.type] in keep] for text in json.load(sys.stdin)]
json.dump(out, sys.stdout)
"""


def _python(minor):
    """A working interpreter of Python 3.<minor> (PATH or pyenv), or None."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [sys.executable, shutil.which(f"python3.{minor}")]
    candidates += sorted(str(p) for p in root.glob(f"3.{minor}.*/bin/python3"))
    for exe in filter(None, candidates):
        try:
            run = subprocess.run([exe, "-c", "import sys; print(*sys.version_info[:2])"],
                                 capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.SubprocessError):
            continue
        if run.returncode == 0 and run.stdout.split() == ["3", str(minor)]:
            return exe
    return None


def _tokens_from(exe, texts):
    run = subprocess.run([exe, "-c", _DUMP_TOKENS], input=json.dumps(texts), capture_output=True,
                         text=True, timeout=300, check=True)
    return [[(n, s, tuple(a), tuple(b)) for n, s, a, b in toks] for toks in json.loads(run.stdout)]


@pytest.mark.parametrize("minor", [12, 13])
def test_spans_with_a_real_312_tokenizer(minor):
    exe = _python(minor)
    if exe is None:
        pytest.skip(f"no Python 3.{minor} interpreter installed")
    only_312 = 'x = f"___{\n    a  # c(\n}___" + f"{f"{b}"}"\n'  # 3.12 syntax (PEP 701)
    tokens, tokens_only_312 = _tokens_from(exe, [TEXT_312, only_312])
    _check_text_312(TEXT_312, charlm._spans_from_tokens(TEXT_312, tokens))
    in_string, in_comment, change = charlm._spans_from_tokens(only_312, tokens_only_312)
    first, second = only_312.index('f"_'), only_312.index('f"{')
    assert _marked(only_312, in_string) == (
        "____" + only_312[first:second - 3] + "___" + only_312[second:-1] + "_")
    assert not in_comment.any() and not change.any()  # the comment and "(" are in the f-string


def test_corpus_factors_are_the_same_under_a_312_tokenizer():
    """Every corpus file gets the same factors from a 3.12+ tokenizer as from this one."""
    exe = next((e for e in (_python(13), _python(12)) if e is not None), None)
    if exe is None:
        pytest.skip("no Python 3.12+ interpreter installed")
    texts = charlm._charlm_corpus()["texts"]
    for i, (text, tokens) in enumerate(zip(texts, _tokens_from(exe, texts), strict=True)):
        in_string, in_comment, change = charlm._spans_from_tokens(text, tokens)
        for ours, theirs in zip(charlm._charlm_syntax(i), (in_string, in_comment,
                                                           np.cumsum(change)), strict=True):
            np.testing.assert_array_equal(ours, theirs, err_msg=str(charlm.charlm_files()[i]))
