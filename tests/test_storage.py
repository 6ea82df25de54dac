"""Bad or truncated files stop a rule with an error naming the file; nothing is unpickled."""


import numpy as np
import pytest
import torch

from gateroles import storage


def test_roundtrip_and_atomic_failure_leaves_nothing(tmp_path):
    path = tmp_path / "a.npz"
    storage.write_npz({"x": np.arange(5)}, path)
    np.testing.assert_array_equal(storage.read_npz(path)["x"], np.arange(5))
    target = tmp_path / "b.csv"
    with pytest.raises(RuntimeError), storage.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert not target.exists() and list(tmp_path.iterdir()) == [path]


def test_tables_keep_floats_to_their_stated_relative_tolerance(tmp_path):
    """A float read back from write_csv is within storage.CSV_REL_TOL of the one written,
    relative to the value read; near the worst case (1.0000049 kept as 1) the tolerance is
    nearly used up, and a score such as 7/60 is already off by more than pytest.approx's default
    1e-6."""
    import pandas as pd

    written = np.array([7 / 60, 1.0000049, 9.9999951, 123456.75, 3.25e-7])
    storage.write_csv(pd.DataFrame({"x": written}), tmp_path / "t.csv")
    read = storage.read_csv(tmp_path / "t.csv")["x"].to_numpy()
    error = np.abs(written - read) / np.abs(read)
    assert error.max() <= storage.CSV_REL_TOL
    assert error.max() > 0.9 * storage.CSV_REL_TOL and error[0] > 1e-6
    assert written.tolist() == pytest.approx(read.tolist(), rel=storage.CSV_REL_TOL)


@pytest.mark.parametrize("cut", [0, 10, 100, 0.5, -1])
def test_truncated_npz_names_the_file(tmp_path, cut):
    path = tmp_path / "gates.npz"
    storage.write_npz({"x": np.random.default_rng(0).normal(size=1000),
                       "y": np.arange(1000)}, path)
    data = path.read_bytes()
    path.write_bytes(data[:int(cut * len(data)) if isinstance(cut, float) else cut])
    with pytest.raises(storage.DataFileError, match="gates.npz"):
        storage.read_npz(path)


def test_corrupted_npz_member_names_the_file(tmp_path):
    path = tmp_path / "gates.npz"
    storage.write_npz({"x": np.zeros(1000)}, path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside x's data: only the member's CRC can tell
    path.write_bytes(bytes(data))
    with pytest.raises(storage.DataFileError, match="gates.npz"):
        storage.read_npz(path)


def test_truncated_or_missing_checkpoint_names_the_file(tmp_path):
    path = tmp_path / "checkpoints.pt"
    storage.save_torch({"steps": {"0": {"w": torch.ones(100)}}}, path)
    assert storage.load_torch(path)["steps"]["0"]["w"].sum() == 100
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(storage.DataFileError, match="checkpoints.pt"):
        storage.load_torch(path)
    with pytest.raises(storage.DataFileError, match="missing.pt"):
        storage.load_torch(tmp_path / "missing.pt")


class Exploit:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"x": Exploit()}, path)
    with pytest.raises(storage.DataFileError, match="evil.pt"):
        storage.load_torch(path)
    npz = tmp_path / "evil.npz"
    np.savez(npz, x=np.array([Exploit()], dtype=object))
    with pytest.raises(storage.DataFileError, match="evil.npz"):
        storage.read_npz(npz)


def test_bad_csv_names_the_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"")
    with pytest.raises(storage.DataFileError, match="t.csv"):
        storage.read_csv(path)
