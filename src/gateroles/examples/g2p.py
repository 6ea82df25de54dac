"""The worked example of docs/own-model.md: g2p_en's pretrained GRU encoder-decoder in torch.

g2p_en (Kyubyong Park & Jongseok Kim, Apache-2.0, on the package index) converts English
spelling to ARPAbet phonemes for the words its dictionary lacks with a small neural network
whose weights ship inside the wheel (`g2p_en/checkpoint20.npz`) and which it runs in numpy: a
GRU encoder over the word's letters and an end mark, whose last state starts a GRU decoder
stepped one phoneme at a time (greedy, at most 20 steps). `G2pNet` is that network as torch
modules (`nn.GRU` encoder over a packed batch, `nn.GRUCell` decoder stepped in Python with its
state carried), `state_dict_from_package` maps the package's arrays onto it, read straight
from the installed files: importing g2p_en would try to download NLTK data, which the network
does not need. tests/test_example_g2p.py checks it against the package's own numpy code.

The inputs are real English words: the headwords of the package's own `homographs.en` (words
with two pronunciations, e.g. "abuse", "record"), each fed as its letters. The events, on the
encoder's letters: `vowel_letter` (a e i o u), `final_e` (a word-final e, often silent:
"abuse"), `double_letter` (the second of two equal letters, spoken once: "addict") and
`h_digraph` (an h after c, g, p, s, t, which changes the consonant before it: "thought",
"phone") and `word_end` (the end mark, whose state starts the decoder); quiet steps are the
other letters. The behaviours score the decoder's pronunciation
(teacher-forced on the model's own greedy answer): the mean log-probability of its vowel
phonemes, of its consonant phonemes, and of the end of the word.

    python -m gateroles.examples.g2p DIR      # DIR/checkpoint.pt, inputs.npz, events.npz
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from gateroles import storage

GRAPHEMES = ["<pad>", "<unk>", "</s>", *"abcdefghijklmnopqrstuvwxyz"]
PHONEMES = ["<pad>", "<unk>", "<s>", "</s>", "AA0", "AA1", "AA2", "AE0", "AE1", "AE2", "AH0",
            "AH1", "AH2", "AO0", "AO1", "AO2", "AW0", "AW1", "AW2", "AY0", "AY1", "AY2", "B",
            "CH", "D", "DH", "EH0", "EH1", "EH2", "ER0", "ER1", "ER2", "EY0", "EY1", "EY2", "F",
            "G", "HH", "IH0", "IH1", "IH2", "IY0", "IY1", "IY2", "JH", "K", "L", "M", "N", "NG",
            "OW0", "OW1", "OW2", "OY0", "OY1", "OY2", "P", "R", "S", "SH", "T", "TH", "UH0",
            "UH1", "UH2", "UW", "UW0", "UW1", "UW2", "V", "W", "Y", "Z", "ZH"]
START, END = PHONEMES.index("<s>"), PHONEMES.index("</s>")
VOWELS = [k for k, p in enumerate(PHONEMES) if p[-1].isdigit()]
MAX_STEPS = 20  # the package's decoder stops after 20 phonemes
EVENTS = ("vowel_letter", "final_e", "double_letter", "h_digraph", "word_end")


class G2pNet(nn.Module):
    """g2p_en's network: letters -> phoneme logits `[N, S, 74]`.

    `forward(letters, lengths, targets=None)`: `letters` `[N, T]` grapheme ids (each word's
    letters then `</s>`, padded with 0), `lengths` `[N]`; the decoder starts at `<s>` and feeds
    back its own best phoneme for `MAX_STEPS` steps, or with `targets` `[N, S]` the given ones
    (teacher forcing: S steps).
    """

    def __init__(self, embedding: int = 256, hidden: int = 256):
        super().__init__()
        self.enc_emb = nn.Embedding(len(GRAPHEMES), embedding)
        self.encoder = nn.GRU(embedding, hidden, batch_first=True)
        self.dec_emb = nn.Embedding(len(PHONEMES), embedding)
        self.decoder = nn.GRUCell(embedding, hidden)
        self.fc = nn.Linear(hidden, len(PHONEMES))

    def forward(self, letters: torch.Tensor, lengths: torch.Tensor,
                targets: torch.Tensor | None = None) -> torch.Tensor:
        packed = pack_padded_sequence(self.enc_emb(letters), lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        _, h = self.encoder(packed)
        h = h[0]
        token = torch.full((letters.shape[0],), START, dtype=torch.long)
        logits = []
        for step in range(MAX_STEPS if targets is None else targets.shape[1]):
            h = self.decoder(self.dec_emb(token), h)
            logits.append(self.fc(h))
            token = logits[-1].argmax(-1) if targets is None else targets[:, step]
        return torch.stack(logits, 1)


def build() -> G2pNet:
    """The module factory a config names: `gateroles.examples.g2p:build`."""
    return G2pNet()


def package_dir() -> Path:
    """The installed g2p_en package's folder, found without importing it."""
    spec = importlib.util.find_spec("g2p_en")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("g2p_en is not installed: pip install -e '.[test]' (it pins "
                                  "g2p-en)")
    return Path(next(iter(spec.submodule_search_locations)))


def state_dict_from_package() -> dict[str, torch.Tensor]:
    """g2p_en's weights (`checkpoint20.npz`, loaded without pickle) as `G2pNet`'s state_dict."""
    names = {"enc_emb.weight": "enc_emb", "encoder.weight_ih_l0": "enc_w_ih",
             "encoder.weight_hh_l0": "enc_w_hh", "encoder.bias_ih_l0": "enc_b_ih",
             "encoder.bias_hh_l0": "enc_b_hh", "dec_emb.weight": "dec_emb",
             "decoder.weight_ih": "dec_w_ih", "decoder.weight_hh": "dec_w_hh",
             "decoder.bias_ih": "dec_b_ih", "decoder.bias_hh": "dec_b_hh",
             "fc.weight": "fc_w", "fc.bias": "fc_b"}
    with np.load(package_dir() / "checkpoint20.npz", allow_pickle=False) as data:
        return {ours: torch.as_tensor(data[theirs].astype(np.float32))
                for ours, theirs in names.items()}


def pretrained() -> G2pNet:
    """`G2pNet` with g2p_en's weights, in eval mode."""
    model = build()
    model.load_state_dict(state_dict_from_package())
    return model.eval()


def words() -> list[str]:
    """The headwords of the package's `homographs.en`, lower case, each once, in file order."""
    lines = (package_dir() / "homographs.en").read_text(encoding="utf-8").splitlines()
    heads = [line.split("|")[0].lower() for line in lines if line and not line.startswith("#")]
    return list(dict.fromkeys(w for w in heads if w.isalpha()))


def encode(batch: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """(letters `[N, T]`: each word's grapheme ids then `</s>`, 0-padded; lengths `[N]`)."""
    ids = [[GRAPHEMES.index(c) if c in GRAPHEMES else 1 for c in w] + [2] for w in batch]
    lengths = torch.tensor([len(i) for i in ids])
    letters = torch.zeros(len(ids), int(lengths.max()), dtype=torch.long)
    for k, i in enumerate(ids):
        letters[k, :len(i)] = torch.tensor(i)
    return letters, lengths


@torch.no_grad()
def pronounce(model: G2pNet, batch: list[str]) -> list[list[str]]:
    """Greedy pronunciations, cut at the first `</s>` as the package cuts them."""
    letters, lengths = encode(batch)
    best = model(letters, lengths).argmax(-1).tolist()
    return [[PHONEMES[p] for p in (row[:row.index(END)] if END in row else row)]
            for row in best]


def letter_events(batch: list[str], t_len: int) -> dict[str, np.ndarray]:
    """The encoder's events `[N, T]` (see the module docstring) and `valid` (letters and the
    end mark; not padding)."""
    out = {name: np.zeros((len(batch), t_len), dtype=bool) for name in (*EVENTS, "valid")}
    for n, word in enumerate(batch):
        out["valid"][n, :len(word) + 1] = True
        for t, c in enumerate(word):
            out["vowel_letter"][n, t] = c in "aeiou"
            out["final_e"][n, t] = c == "e" and t == len(word) - 1
            out["double_letter"][n, t] = t > 0 and word[t - 1] == c
            out["h_digraph"][n, t] = c == "h" and t > 0 and word[t - 1] in "cgpst"
        out["word_end"][n, len(word)] = True  # the end mark, whose state starts the decoder
    return out


def behaviours(outputs: torch.Tensor, inputs: dict) -> dict[str, torch.Tensor]:
    """Per word, the mean log-probability the decoder gives its reference phonemes
    (`inputs["targets"]`, teacher-forced): vowels, consonants, and the end of the word."""
    targets = inputs["targets"]
    logp = torch.log_softmax(outputs, -1).gather(2, targets[..., None])[..., 0]
    vowel = torch.isin(targets, torch.tensor(VOWELS))
    kinds = {"vowel_phonemes": vowel, "consonant_phonemes": (targets > END) & ~vowel,
             "word_end": targets == END}
    return {name: (logp * mask).sum(1) / mask.sum(1).clamp(min=1) for name, mask in kinds.items()}


def tokens(inputs: dict) -> dict[str, list[list[str]]]:
    """The viewer's labels of each module's steps: the encoder's letters (`∎` the end mark)
    and the decoder's input phoneme at each step (`<s>`, then the reference phonemes,
    teacher-forced; none on padding), the config's `user_model.tokens`."""
    letters = [["∎" if g == "</s>" else "" if g == "<pad>" else g
                for g in (GRAPHEMES[i] for i in row)] for row in inputs["letters"].tolist()]
    decoder = [["<s>", *("" if i == 0 else PHONEMES[i] for i in row[:-1])]
               for row in inputs["targets"].tolist()]
    return {"encoder": letters, "decoder": decoder}


def write_example(folder: str | Path, n_words: int | None = None) -> dict[str, Path]:
    """The example's files in `folder`: `checkpoint.pt` (the state_dict), `inputs.npz`
    (letters, lengths, targets: the model's own greedy pronunciation then `</s>`) and
    `events.npz` (the letter events and `valid`)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model = pretrained()
    batch = words()[:n_words]
    letters, lengths = encode(batch)
    with torch.no_grad():
        greedy = model(letters, lengths).argmax(-1)
    ends = [row.index(END) if END in row else MAX_STEPS - 1 for row in greedy.tolist()]
    targets = torch.zeros(len(batch), max(ends) + 1, dtype=torch.long)
    for n, end in enumerate(ends):
        targets[n, :end] = greedy[n, :end]
        targets[n, end] = END
    paths = {"checkpoint": folder / "checkpoint.pt", "inputs": folder / "inputs.npz",
             "events": folder / "events.npz"}
    storage.save_torch(model.state_dict(), paths["checkpoint"])
    storage.write_npz({"letters": letters.numpy(), "lengths": lengths.numpy(),
                       "targets": targets.numpy()}, paths["inputs"])
    storage.write_npz(letter_events(batch, letters.shape[1]), paths["events"])
    return paths


if __name__ == "__main__":
    for kind, path in write_example(sys.argv[1] if len(sys.argv) > 1 else
                                    "results/example_user_model").items():
        print(f"{kind}: {path}")
