"""Claim C6: the gradient across hold intervals and by lag, path by path, with hand-built cases
whose answers are known."""

import numpy as np
import pandas as pd
import pytest
import torch

from gateroles import gatefile, report, stats, storage
from gateroles.analyses import learnability
from gateroles.analyses.gradient_flow import Settings, figures, section
from gateroles.analyses.gradient_flow import aggregate as agg
from gateroles.analyses.gradient_flow import measure as gf
from gateroles.analyses.learnability import aggregate as learnability_agg
from gateroles.models import build_model, checkpoint_payload
from gateroles.pipeline import RunInputs
from gateroles.study import Run

N, T, H, IN, OUT = 6, 14, 5, 3, 4
K = 8
STATS = stats.Settings(bootstrap_samples=200, confidence=0.95, min_seeds=5)


def _model(arch, seed=0):
    model = build_model(arch, IN, H, OUT, "default", T, seed)
    with torch.no_grad():  # larger weights than the default init: the h paths matter
        model.rnn.weight_hh_l0.mul_(3)
    return model


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, T, IN)).astype(np.float32)
    mask = rng.random((N, T)) < 0.4
    mask[:, -1] = True
    targets = rng.integers(0, OUT, size=(N, T))
    return x, mask, targets


def _picks(mask, per_sequence=3, burn_in=2):
    seq, steps, k = gf.choose_picks(mask, K, per_sequence, burn_in, np.random.default_rng(0))
    return seq, steps, k


def _paths(model, arch, clamp=None, kind="classification"):
    x, mask, targets = _data()
    seq, steps, k = _picks(mask)
    return gf.path_gradients(model, arch, x[seq], targets[seq, steps], kind, steps, k, clamp)


def test_picks_are_late_scored_distinct_steps():
    _, mask, _ = _data()
    seq, steps, k = _picks(mask)
    assert k == K and (steps >= K + 2).all() and mask[seq, steps].all()
    assert len(set(zip(seq.tolist(), steps.tolist(), strict=True))) == len(seq)
    assert np.bincount(seq).max() <= 3
    early = np.zeros((2, T), bool)
    early[:, 5] = True  # nothing scored at or after K + burn-in: K drops to 5 - burn-in
    seq, steps, k = gf.choose_picks(early, K, 2, 2, np.random.default_rng(0))
    assert k == 3 and (steps == 5).all() and len(seq) == 2
    seq, steps, k = gf.choose_picks(early, K, 2, 8, np.random.default_rng(0))
    assert k == 0 and (steps == 5).all()  # the burn-in cannot pass the latest scored step


def test_no_pick_falls_in_the_burn_in():
    """Scored steps at K + 1 and at the end only, burn-in 2: every pick is the last step (a
    pick at K + 1 would measure the state at step 1, inside the burn-in)."""
    mask = np.zeros((4, T), bool)
    mask[:, K + 1] = mask[:, -1] = True
    seq, steps, k = gf.choose_picks(mask, K, 2, 2, np.random.default_rng(0))
    assert k == K and (steps == T - 1).all() and sorted(seq) == [0, 1, 2, 3]


@pytest.mark.parametrize("arch,state", [("lstm", "cell"), ("gru", "hidden")])
def test_the_paths_add_up_to_the_total_and_their_shares_to_one(arch, state):
    """total = direct + via_h as vectors, so the shares <path, total> / ||total||^2 of the
    two paths add up to 1 at every lag, with recurrent weights large enough that the paths
    through h are far from orthogonal to the direct one (so norms alone would not add up)."""
    paths = _paths(_model(arch), arch)
    total, direct, via_h = (paths[(state, p)].double() for p in ("total", "direct", "via_h"))
    torch.testing.assert_close(direct + via_h, total, rtol=0, atol=1e-6)
    rows = gf.by_lag_rows(paths)
    share = rows[rows.state == state].pivot(index="lag", columns="path", values="share")
    np.testing.assert_allclose(share["direct"] + share["via_h"], 1.0, rtol=1e-5)
    np.testing.assert_allclose(share["total"], 1.0, rtol=1e-12)
    squared = (direct.norm(dim=-1) ** 2 + via_h.norm(dim=-1) ** 2).sum(0)
    assert not np.allclose(squared.numpy(), (total.norm(dim=-1) ** 2).sum(0).numpy(), rtol=1e-2)


def test_the_direct_share_averages_lags_one_to_k():
    """At lag 0 the direct path is the whole gradient (share 1): the summary leaves it out."""
    by_lag = pd.DataFrame({"state": "cell", "path": ["total"] * 3 + ["direct"] * 3,
                           "lag": [0, 1, 2] * 2, "norm": [1.0, 0.5, 0.2, 1.0, 0.4, 0.1],
                           "share": [1.0, 1.0, 1.0, 1.0, 0.5, 0.3]})
    rows = gf.efold_rows(by_lag).set_index("path")
    assert rows.loc["direct", "direct_share"] == pytest.approx(0.4)
    assert np.isnan(rows.loc["total", "direct_share"]) and rows.loc["direct", "max_lag"] == 2


def test_forget_clamped_to_one_carries_the_direct_path_with_factor_exactly_one():
    paths = _paths(_model("lstm"), "lstm", {"forget": (True, 1.0)})
    direct = paths[("cell", "direct")]
    assert direct[:, 0].abs().min() > 0
    for k in range(K + 1):
        assert torch.equal(direct[:, k], direct[:, 0])
    rows = gf.by_lag_rows(paths)
    curve = rows[(rows.state == "cell") & (rows.path == "direct")]["norm"].to_numpy()
    assert np.all(curve == curve[0])
    assert gf.efolding_lag(curve) == (float(K), True)  # never falls: censored at K


@pytest.mark.parametrize("arch,gate,state", [("lstm", "forget", "cell"),
                                             ("gru", "update", "hidden")])
def test_a_constant_keep_gate_a_gives_the_direct_path_factor_a_to_the_k(arch, gate, state):
    a = 0.6
    paths = _paths(_model(arch), arch, {gate: (True, a)})
    direct = paths[(state, "direct")].double()
    for k in range(K + 1):
        torch.testing.assert_close(direct[:, k], direct[:, 0] * a ** k, rtol=1e-5, atol=1e-12)
    rows = gf.by_lag_rows(paths)
    curve = rows[(rows.state == state) & (rows.path == "direct")]["norm"].to_numpy()
    lag, censored = gf.efolding_lag(curve)
    assert not censored and lag == pytest.approx(-1 / np.log(a), rel=1e-4)


@pytest.mark.parametrize("arch,state", [("lstm", "cell"), ("gru", "hidden"),
                                        ("lstm_nfg", "cell")])
def test_without_recurrent_weights_the_h_paths_vanish(arch, state):
    model = _model(arch)
    with torch.no_grad():
        model.rnn.weight_hh_l0.zero_()
    paths = _paths(model, arch)
    torch.testing.assert_close(paths[(state, "total")], paths[(state, "direct")])
    assert paths[(state, "via_h")].abs().max() < 1e-7
    rows = gf.by_lag_rows(paths)
    share = rows[(rows.state == state) & (rows.path == "direct")]["share"]
    np.testing.assert_allclose(share, 1.0, rtol=1e-5)
    # with recurrent weights, the paths through h add something
    paths = _paths(_model(arch), arch)
    assert paths[(state, "via_h")][:, 1:].abs().max() > 1e-4


def test_the_direct_share_is_a_share_of_the_two_paths_even_where_they_cancel():
    """direct = v, through h = -0.9 v: the total is 0.1 v, so a projection on the total would
    give the direct path 10 (and the paths through h -9); its share of the two paths' squared
    norms is 1 / (1 + 0.81), and the two shares add to 1."""
    v = torch.randn(4, 3, 5)
    rows = gf.by_lag_rows({("cell", "total"): 0.1 * v, ("cell", "direct"): v,
                           ("cell", "via_h"): -0.9 * v, ("hidden", "total"): v})
    share = rows.set_index(["state", "path", "lag"])["share"].sort_index()
    np.testing.assert_allclose(share.loc["cell", "direct"], 1 / 1.81)
    np.testing.assert_allclose(share.loc["cell", "via_h"], 0.81 / 1.81)
    np.testing.assert_allclose(share.loc["cell", "total"], 1.0)
    np.testing.assert_allclose(share.loc["hidden", "total"], 1.0)


@pytest.mark.parametrize("arch", ["lstm", "gru", "lstm_cifg"])
def test_every_share_lies_in_0_1(arch):
    paths = _paths(_model(arch), arch)
    rows = gf.by_lag_rows(paths)
    assert rows["share"].between(0, 1).all()
    efold = gf.efold_rows(rows)
    assert efold["direct_share"].dropna().between(0, 1).all()
    assert efold["direct_share"].notna().sum() == 1  # the direct path of the highway state


def test_a_removed_forget_gate_never_fades_and_a_half_one_fades_as_half_to_the_k():
    """Hand-built: the same LSTM with f = 1 (lstm_nfg) keeps its direct cell gradient at its
    lag-0 value at every lag; with f held at 0.5 (lstm_ffg) it falls as 0.5^k."""
    x, mask, targets = _data()
    seq, steps, k = _picks(mask)
    curves = {}
    for arch in ("lstm_nfg", "lstm_ffg"):
        paths = gf.path_gradients(_model(arch), arch, x[seq], targets[seq, steps],
                                  "classification", steps, k)
        curves[arch] = paths[("cell", "direct")].double()
    for lag in range(k + 1):
        torch.testing.assert_close(curves["lstm_nfg"][:, lag], curves["lstm_nfg"][:, 0])
        torch.testing.assert_close(curves["lstm_ffg"][:, lag],
                                   curves["lstm_ffg"][:, 0] * 0.5 ** lag, rtol=1e-5, atol=1e-12)


def _reference(model, arch, x, targets, kind, steps, max_lag):
    """One backward per (pick, lag), through PyTorch's fused module in float64: run to step s,
    make the state a leaf, run on to t, differentiate the target's logit at t with respect to
    the leaf.
    The LSTM's (h_s, c_s) leaves are independent there, but h_s = o_s tanh(c_s): the total
    dL/dc_s adds dL/dh_s o_s (1 - tanh^2 c_s), with o_s = h_s / tanh(c_s)."""
    import copy

    model = copy.deepcopy(model).double()
    rnn, cell = model.rnn, arch.startswith("lstm")
    out = {s: torch.zeros(len(steps), max_lag + 1, H, dtype=torch.float64) for s in
           (("cell", "hidden") if cell else ("hidden",))}
    for b, t in enumerate(steps):
        xb = torch.as_tensor(x[b:b + 1], dtype=torch.float64)
        for k in range(max_lag + 1):
            s = t - k
            _, state = rnn(xb[:, :s + 1])
            leaves = tuple(v.detach().requires_grad_() for v in
                           (state if cell else (state,)))
            if s == t:
                h_t = leaves[0][0]
            else:
                h_seq, _ = rnn(xb[:, s + 1:t + 1], leaves if cell else leaves[0])
                h_t = h_seq[:, -1]
            loss = gf.target_score(model.readout(h_t), targets[b:b + 1], kind)
            grads = [torch.zeros_like(v) if g is None else g for v, g in zip(
                leaves, torch.autograd.grad(loss, leaves, allow_unused=True), strict=True)]
            out["hidden"][b, k] = grads[0][0, 0]
            if cell:
                h_s, c_s = (v.detach()[0, 0] for v in leaves)
                tanh_c = torch.tanh(c_s)
                out["cell"][b, k] = grads[1][0, 0] + grads[0][0, 0] * (h_s / tanh_c) * (
                    1 - tanh_c ** 2)
    return out


@pytest.mark.parametrize("arch,kind", [("lstm", "classification"), ("gru", "regression"),
                                       ("rnn", "classification"),
                                       ("lstm_cifg", "regression")])
def test_vectorised_by_lag_equals_one_backward_per_pick_and_lag(arch, kind):
    model = _model(arch)
    x, mask, targets = _data()
    seq, steps, k = _picks(mask, per_sequence=2)
    y = (targets[seq, steps] if kind == "classification"
         else np.random.default_rng(3).normal(size=len(seq)).astype(np.float32))
    fast = gf.state_gradients(model, x[seq], y, kind, steps, k,
                              model.spec.states)
    slow = _reference(model, arch, x[seq], y, kind, steps, k)
    for state, grad in slow.items():
        torch.testing.assert_close(fast[state].double(), grad, rtol=1e-4, atol=1e-6)


def test_direct_cell_path_is_the_product_of_forget_gates():
    from gateroles import gates

    model = _model("lstm")
    x, mask, targets = _data()
    seq, steps, k = _picks(mask)
    direct = gf.path_gradients(model, "lstm", x[seq], targets[seq, steps], "classification",
                               steps, k)[("cell", "direct")]
    forget = torch.as_tensor(gates.extract(model, x[seq])["forget"])
    for b, t in enumerate(steps):
        product = torch.ones(H)
        for j in range(k + 1):
            torch.testing.assert_close(direct[b, j], direct[b, 0] * product, rtol=1e-4,
                                       atol=1e-7)
            product = product * forget[b, t - j]


def test_efolding_lag_of_known_curves():
    tau = 3.7
    assert gf.efolding_lag(np.exp(-np.arange(20) / tau)) == (pytest.approx(tau), False)
    assert gf.efolding_lag(np.ones(10)) == (9.0, True)
    assert gf.efolding_lag([1.0, 0.5, 0.0]) == (1.0, False)  # a zero: right after lag 1
    assert gf.efolding_lag([1.0, 0.0])[0] == 0.0
    assert np.isnan(gf.efolding_lag([0.0, 0.0])[0])
    # a dip below 1/e counts even if the curve rises again (first crossing)
    assert gf.efolding_lag([1.0, 0.3, 0.9])[0] < 1.0


# ------------------------------------------------------------------ the whole measure


# ------------------------------------------------------------------ hold intervals

HOLD = 6


def _hold_task(n=12, episodes=3, name=f"hold_recall@{HOLD}", seed=0):
    from gateroles import tasks

    return tasks.make_task(name, n, episodes * (HOLD + 2) + 1, seed)


def _hand_built(arch, keep, task, zero_recurrent=True):
    """A model on `task`'s inputs whose keep gate (LSTM forget, GRU update) is `keep` exactly at
    every step (its input and recurrent rows 0, its bias the logit of `keep`: 100 for 1),
    without recurrent weights when `zero_recurrent` (then no gradient goes through h)."""
    model = build_model(arch, task.input_size, H, task.n_outputs, "default", task.length, 0)
    rnn = model.rnn
    with torch.no_grad():
        if zero_recurrent:
            rnn.weight_hh_l0.zero_()
        if keep is not None:
            rows = slice(H, 2 * H)  # LSTM i, f, g, o; GRU r, z, n: the second block
            rnn.weight_ih_l0[rows] = 0
            rnn.weight_hh_l0[rows] = 0
            rnn.bias_hh_l0[rows] = 0
            rnn.bias_ih_l0[rows] = 100.0 if keep == 1 else float(np.log(keep / (1 - keep)))
    for param in model.parameters():
        param.requires_grad_(False)
    return model


def _intervals(model, arch, task, clamp_value=0.5, units=None):
    picks = gf.interval_picks(task.factors, task.events, 64, np.random.default_rng(0))
    grads = gf.interval_gradients(model, arch, task.inputs[picks[:, 0]],
                                  task.targets[picks[:, 0], picks[:, 2]], task.kind,
                                  picks[:, 2], clamp_value)
    lag, store = gf.interval_rows(grads, picks, units or {"all": slice(None)})
    return picks, grads, lag, store.set_index(["kind", "condition", "state", "path", "units"])


def test_interval_picks_are_odd_sequences_of_both_kinds_with_a_step_between():
    task = _hold_task(n=20)
    picks = gf.interval_picks(task.factors, task.events, 3, np.random.default_rng(0))
    assert (picks[:, 0] % 2 == 1).all() and (picks[:, 2] - picks[:, 1] == HOLD + 1).all()
    assert sorted(np.bincount(picks[:, 3], minlength=2)) == [3, 3]
    # every pick's query is scored and its store is a STORE
    assert task.mask[picks[:, 0], picks[:, 2]].all()
    assert task.factors["is_store"][picks[:, 0], picks[:, 1]].all()


def test_a_forget_gate_at_one_keeps_the_whole_gradient_on_the_direct_path():
    """Hand-built LSTM, f = 1 exactly and no recurrent weights: the query's gradient reaches
    the store whole (0 decades lost from lag 1), all of it along the direct cell path (share
    1), and a constant 0.5 in the Jacobian in place of f costs (q - s) log10 2 decades."""
    task = _hold_task()
    model = _hand_built("lstm", 1, task)
    picks, grads, lag, store = _intervals(model, "lstm", task)
    assert set(picks[:, 3]) == {0, 1}
    for kind in ("keep", "erase"):
        free = store.loc[(kind, "free", "cell", "total", "all")]
        assert free["kept_decades"] == pytest.approx(0.0, abs=1e-6)
        assert free["log10_store"] == pytest.approx(free["log10_lag0"], abs=1e-6)
        assert store.loc[(kind, "free", "cell", "direct", "all"), "share_store"] == \
            pytest.approx(1.0)
        clamped = store.loc[(kind, "jacobian", "cell", "total", "all"), "log10_store"]
        assert free["log10_store"] - clamped == pytest.approx((HOLD + 1) * np.log10(2),
                                                              rel=1e-5)
    shares = lag[(lag["path"] == "direct") & (lag["condition"] == "free")]["share"]
    np.testing.assert_allclose(shares, 1.0, rtol=1e-6)


def test_a_forget_gate_at_half_fades_as_half_to_the_hold_and_its_jacobian_clamp_is_nothing():
    """f = 0.5 exactly: the direct path at the store is its lag-0 value times 0.5^(q - s), so
    from lag 1 it loses (q - s - 1) log10 2 decades; clamping f to 0.5 in the Jacobian is the
    identity (the negative control's case)."""
    task = _hold_task()
    model = _hand_built("lstm", 0.5, task)
    picks, grads, lag, store = _intervals(model, "lstm", task)
    direct = grads[("free", "cell", "direct")].double()
    rows = torch.arange(len(picks))
    at_query = direct[rows, torch.as_tensor(picks[:, 2])]
    at_store = direct[rows, torch.as_tensor(picks[:, 1])]
    torch.testing.assert_close(at_store, at_query * 0.5 ** (HOLD + 1), rtol=1e-5, atol=1e-30)
    keep = store.loc[("keep", "free", "cell", "total", "all")]
    assert keep["kept_decades"] == pytest.approx(-HOLD * np.log10(2), rel=1e-5)
    torch.testing.assert_close(grads[("jacobian", "cell", "total")],
                               grads[("free", "cell", "total")], rtol=0, atol=0)


def test_the_jacobian_clamp_leaves_the_run_free():
    """The keep gate clamped in the Jacobian only: every output of the run is the free one,
    while the gradient changes (a learned gate that is not constant)."""
    from gateroles import interventions

    task = _hold_task()
    model = _model_on(task, "lstm")
    x = torch.as_tensor(task.inputs)
    free = interventions.forward(model, x, differentiable=True)
    clamped = interventions.forward(model, x, differentiable=True, keep_jacobian=0.5)
    for name in ("outputs", "cell", "hidden", "forget"):
        torch.testing.assert_close(clamped[name], free[name], rtol=0, atol=1e-6)
    _, grads, _, _ = _intervals(model, "lstm", task)
    assert not torch.allclose(grads[("jacobian", "cell", "total")],
                              grads[("free", "cell", "total")])
    with pytest.raises(ValueError, match="no keep gate"):
        interventions.forward(_model_on(task, "rnn"), x, differentiable=True,
                              keep_jacobian=0.5)


def _model_on(task, arch, seed=0):
    model = build_model(arch, task.input_size, H, task.n_outputs, "default", task.length, seed)
    with torch.no_grad():
        model.rnn.weight_hh_l0.mul_(3)
    for param in model.parameters():
        param.requires_grad_(False)
    return model


def test_a_gru_whose_update_gate_is_one_keeps_its_gradient_on_the_direct_path():
    task = _hold_task()
    _, _, _, store = _intervals(_hand_built("gru", 1, task), "gru", task)
    keep = store.loc[("keep", "free", "hidden", "total", "all")]
    assert keep["kept_decades"] == pytest.approx(0.0, abs=1e-6)
    assert store.loc[("keep", "free", "hidden", "direct", "all"), "share_store"] == \
        pytest.approx(1.0)


def test_a_tanh_rnn_has_no_direct_path_and_no_jacobian_clamp():
    task = _hold_task()
    picks, grads, lag, store = _intervals(_model_on(task, "rnn"), "rnn", task)
    assert set(grads) == {("free", "hidden", "total")}
    assert set(store.index.get_level_values("path")) == {"total"}
    assert store["share_store"].isna().all() and (lag["share"] == 1).all()


@pytest.mark.parametrize("arch", ["lstm", "gru", "lstm_cifg"])
def test_interval_shares_lie_in_0_1_and_memory_units_are_their_own_rows(arch):
    task = _hold_task()
    units = {"all": slice(None), "memory": np.array([0, 2])}
    _, _, lag, store = _intervals(_model_on(task, arch), arch, task, units=units)
    assert lag["share"].dropna().between(0, 1 + 1e-9).all()
    assert store["share_store"].dropna().between(0, 1).all()
    assert set(store["n_units"]) == {H, 2}
    assert (lag["lag"] <= HOLD + 1).all() and (lag["n_picks"] > 0).all()


# ------------------------------------------------------------------ the whole measure

@pytest.fixture
def run_inputs(tmp_path):
    """A gate file and a checkpoint file of a tiny model at steps 0 and 10: a synthetic task
    (no events), or a hold task (`task`: intervals, a memory variable)."""
    def make(arch="lstm", kind="classification", task=None):
        from gateroles import gates

        if task is None:
            x, mask, targets = _data()
            tokens = np.zeros((N, T), dtype=np.int64)
            meta = {"task": "synthetic", "kind": kind, "n_outputs": OUT if kind ==
                    "classification" else 1, "chance": 0.5, "events": {},
                    "continuous_factors": [], "contexts": {}, "behaviours": {},
                    "auxiliary_factors": []}
            targets = targets if kind == "classification" else targets.astype(np.float32)
            data = gatefile.data_arrays(inputs=x, tokens=tokens, targets=targets, mask=mask,
                                        factors={"f": tokens}, meta=meta)
            size, n_out = IN, meta["n_outputs"]
        else:
            data = gatefile.task_arrays(task, task.n_sequences)
            x, size, n_out = task.inputs, task.input_size, task.n_outputs
        first, second = (build_model(arch, size, H, n_out, "default", T, s) for s in (0, 1))
        if task is None and kind == "classification":
            first, second = _model(arch, 0), _model(arch, 1)
        gatefile.write(str(tmp_path / "gates.npz"), data,
                       {0: gates.extract(first, x), 10: gates.extract(second, x)})
        meta = {"arch": arch, "input_size": size, "hidden_size": H, "n_outputs": n_out}
        payload = checkpoint_payload(meta, {0: first.state_dict(), 10: second.state_dict()})
        storage.save_torch(payload, tmp_path / "checkpoints.pt")
        return RunInputs({"gates": str(tmp_path / "gates.npz"),
                          "checkpoints": str(tmp_path / "checkpoints.pt")})
    return make


SETTINGS = Settings(max_lag=K, burn_in=2, n_sequences=N, picks_per_sequence=2, clamp_value=0.5,
                    interval_picks=8, memory_units=0.4)


@pytest.mark.parametrize("arch,kind", [("lstm", "classification"), ("gru", "regression"),
                                       ("rnn", "classification"),
                                       ("lstm_nfg", "classification"),
                                       ("lstm_ffg", "classification"),
                                       ("gru_fug", "regression")])
def test_measure_tables(run_inputs, arch, kind):
    tables = gf.measure(run_inputs(arch, kind), Run("synthetic", arch, "default", 0), SETTINGS)
    by_lag, efold = tables["by_lag"], tables["efold"]
    assert set(by_lag["step"]) == {0, 10} and (by_lag["final_step"] == 10).all()
    assert set(by_lag["condition"]) == {"free"}
    paths = set(zip(by_lag["state"], by_lag["path"], strict=True))
    cell = arch.split("_")[0]
    expected = {"lstm": {("cell", "total"), ("cell", "direct"), ("cell", "via_h"),
                         ("hidden", "total")},
                "gru": {("hidden", "total"), ("hidden", "direct"), ("hidden", "via_h")},
                "rnn": {("hidden", "total")}}[cell]
    assert by_lag["share"].between(0, 1).all()
    assert paths == expected
    assert (by_lag["lag"].max() == K) and (by_lag["norm"] >= 0).all()
    assert efold["efold"].between(0, K - 1).all()  # counted from lag 1
    if arch == "lstm_nfg":  # f = 1: the direct cell path never fades
        direct = efold[efold["path"] == "direct"]
        assert direct["censored"].all() and (direct["efold"] == K - 1).all()
    # no STORE and QUERY events: no intervals, but the tables are there
    assert tables["interval_lag"].empty and tables["interval_store"].empty
    assert "kept_decades" in tables["interval_store"]


@pytest.mark.parametrize("arch", ["lstm", "gru", "rnn", "lstm_nfg", "lstm_ffg"])
def test_measure_interval_tables_on_a_hold_task(run_inputs, arch):
    task = _hold_task(n=16)
    tables = gf.measure(run_inputs(arch, task=task), Run(task.name, arch, "default", 0),
                        SETTINGS)
    store = tables["interval_store"]
    assert set(store["step"]) == {0, 10} and (store["final_step"] == 10).all()
    assert set(store["kind"]) == {"keep", "erase"} and set(store["units"]) == {"all", "memory"}
    assert (store.loc[store["units"] == "memory", "n_units"] == round(0.4 * H)).all()
    conditions = {"free"} if arch in ("rnn", "lstm_nfg") else {"free", "jacobian"}
    assert set(store["condition"]) == conditions
    assert (store["store_lag"] == HOLD + 1).all() and (store["n_picks"] <= 8).all()
    if arch == "lstm_ffg":  # f held at 0.5: its Jacobian clamp to 0.5 changes nothing
        wide = store[(store["state"] == "cell") & (store["path"] == "total")].pivot_table(
            index=["step", "kind", "units"], columns="condition", values="log10_store")
        np.testing.assert_array_equal(wide["free"], wide["jacobian"])


# ------------------------------------------------------------------ across seeds

def _store_table(values: dict, seeds=range(5), solved=None, final=100, task="hold_recall@30"):
    """Per-model interval summaries (keep intervals, all units, total path):
    values[(arch, condition, state, column)] = (initial, trained), each a number (seed i adds
    0.1 i) or a per-seed list."""
    models = {}
    for (arch, condition, state, column), (initial, trained) in values.items():
        for i, seed in enumerate(seeds):
            for step, v in ((0, initial), (final, trained)):
                key = (arch, condition, state, seed, step)
                row = models.setdefault(key, {
                    "task": task, "arch": arch, "init": "default", "seed": seed,
                    "kind": "keep", "condition": condition, "state": state, "path": "total",
                    "units": "all", "store_lag": 31.0, "n_picks": 64, "n_units": 32,
                    "share_store": np.nan, "step": step, "final_step": final,
                    "solved": True if solved is None else solved[i]})
                row[column] = v[i] if isinstance(v, list) else v + 0.1 * i
    return pd.DataFrame(list(models.values()))


HIGHWAY = {("lstm", "free", "cell", "kept_decades"): (-1.0, [-0.2, -0.1, -0.05, 0.05, 0.15]),
           ("lstm", "free", "hidden", "kept_decades"): (-1.2, -1.5),
           ("lstm", "free", "cell", "log10_store"): (-3.0, -1.0),
           ("lstm", "jacobian", "cell", "log10_store"): (-3.1, -4.0),
           ("gru", "free", "hidden", "log10_store"): (-3.0, -1.5),
           ("gru", "jacobian", "hidden", "log10_store"): (-3.1, -4.0),
           ("gru", "free", "hidden", "kept_decades"): (-1.0, -0.5),
           ("rnn", "free", "hidden", "kept_decades"): (-2.0, [-2.2, -1.8, -2.1, -1.9, -2.0])}
# The negative controls, keep gate held at 0.5 in training: no highway. The clamp to 0.5 in the
# Jacobian is the identity there (clamped = free, exactly), and training moves nothing beyond
# seed noise.
NOISE = [0.07, -0.05, 0.02, -0.09, 0.04]
FLAT = {("lstm_ffg", "free", "cell", "kept_decades"): (-1.0, [-1.0 + e for e in NOISE]),
        ("lstm_ffg", "free", "hidden", "kept_decades"): (-1.0, [-1.0 - e for e in NOISE]),
        ("lstm_ffg", "free", "cell", "log10_store"): (-3.0, [-3.0 + e for e in NOISE]),
        ("lstm_ffg", "jacobian", "cell", "log10_store"): (-3.0, [-3.0 + e for e in NOISE]),
        ("gru_fug", "free", "hidden", "kept_decades"): (-2.0, [-2.0 + e for e in NOISE]),
        ("gru_fug", "free", "hidden", "log10_store"): (-3.0, [-3.0 + e for e in NOISE]),
        ("gru_fug", "jacobian", "hidden", "log10_store"): (-3.0, [-3.0 + e for e in NOISE])}


def c6_table(values):
    return agg.c6_verdicts(_store_table(values), SETTINGS, STATS)


def test_c6_predictions_supported_when_training_builds_the_highway():
    table = c6_table({**HIGHWAY, **FLAT})
    assert len(table) == 5  # P1, P2 (lstm), P4 (gru), P3 rnn vs lstm and vs gru
    assert (table["verdict"] == "supported").all(), table[["prediction", "verdict"]]
    assert (table["claim"] == "C6").all() and (table["test"] == "primary").all()
    assert table["rival"].str.len().gt(0).all()
    # every control ran and did not come out supported: every prediction counts
    assert table["counted"].all(), table[["prediction", "control", "control_verdict"]]
    controls = table.set_index("evidence")["control"]
    assert controls[agg.EVIDENCE["P1"]] == "lstm_ffg (forget held at 0.5 in training)"
    assert controls[agg.EVIDENCE["P4"]] == "gru_fug (update held at 0.5 in training)"
    p3 = table[table["evidence"] == agg.EVIDENCE["P3"]].set_index("prediction")["control"]
    assert set(p3) == {"lstm_ffg (forget held at 0.5 in training, in place of lstm)",
                       "gru_fug (update held at 0.5 in training, in place of gru)"}
    # P2 / P4 on their control: the clamp to the value the gate was held at changes nothing
    p2 = table[table["evidence"] == agg.EVIDENCE["P2"]].iloc[0]
    assert p2["control_verdict"] == "untestable" and p2["control_change"] == 0
    assert p2["trained"] == pytest.approx(3.0) and p2["initial"] == pytest.approx(0.1)
    p1 = table[table["evidence"] == agg.EVIDENCE["P1"]].iloc[0]
    assert p1["trained"] == pytest.approx(1.27) and p1["initial"] == pytest.approx(0.2)
    assert p1["change"] == pytest.approx(1.07)
    for line in section.claims(table):
        assert line["verdict"] == "supported", line


def test_c6_without_its_controls_counts_nothing_and_one_that_passes_is_not_a_test():
    table = c6_table(HIGHWAY)
    assert not table["counted"].any()
    assert table["control"].str.endswith("(not run)").all()
    assert {line["verdict"] for line in section.claims(table)} == {"not decided"}
    # a control that builds the same "highway" without a learned keep gate: not a test
    passing = {("lstm_ffg", *k[1:]): v for k, v in HIGHWAY.items() if k[0] == "lstm"}
    table = c6_table({**HIGHWAY, **FLAT, **passing})
    p1 = table[table["evidence"] == agg.EVIDENCE["P1"]].iloc[0]
    assert p1["control_verdict"] == "supported" and not p1["counted"]
    p4 = table[table["evidence"] == agg.EVIDENCE["P4"]].iloc[0]
    assert p4["counted"]  # the GRU's control still fails


def test_a_consistent_reversal_reads_contradicted_and_is_said_plainly():
    """The gradient at the store is *larger* with f clamped to 0.5 in the Jacobian after
    training in every seed (the change from step 0 is wholly below 0, no seed agreeing): the
    row is contradicted, the line says so, and the section says the quantity fell."""
    values = {**HIGHWAY, **FLAT,
              ("lstm", "jacobian", "cell", "log10_store"): (-3.1, [-0.2, -0.5, -0.1, -0.4, -0.3])}
    table = c6_table(values)
    p2 = table[table["evidence"] == agg.EVIDENCE["P2"]].iloc[0]
    assert p2["verdict"] == "contradicted" and p2["seeds_agreeing"] == 0
    assert p2["change_ci_high"] < 0 and p2["counted"]
    line = {row["evidence"]: row for row in section.claims(table)}[agg.EVIDENCE["P2"]]
    assert line["verdict"] == "contradicted"
    assert report.PHRASES[line["verdict"]] == "no: the opposite holds"
    said = " ".join(section.reversal_sentences(table))
    assert "contradicted, counted" in said and "fell with training" in said
    assert "0 of 5 solved seeds in the predicted direction" in said


def test_a_reversal_that_holm_hides_is_still_said():
    """Unadjusted contradicted, inconclusive after Holm: the verdict column and the line's
    basis say 'contradicted' all the same."""
    row = {"task": "reset_recall", "arch": "lstm", "init": "default",
           "evidence": agg.EVIDENCE["P2"], "prediction": "p", "verdict": "inconclusive",
           "verdict_unadjusted": "contradicted", "counted": True, "test": "primary",
           "change": -1.0, "change_ci_low": -1.9, "change_ci_high": -0.1, "trained": -0.5,
           "trained_ci_low": -1.0, "trained_ci_high": 0.0, "initial": 0.5,
           "initial_ci_low": 0.4, "initial_ci_high": 0.6, "seeds_agreeing": 0, "n_seeds": 5}
    c6 = pd.DataFrame([row])
    assert section.verdict_words(c6).iloc[0] == "inconclusive; contradicted (unadjusted)"
    said = section.reversal_sentences(c6)[0]
    assert "contradicted before Holm (inconclusive after)" in said and "wholly below 0" in said


def _learnability_rows(lstm, rnn, nfg):
    """The learnability sweep's C6 rows (before Holm) from each seed's reach."""
    reach = pd.DataFrame([{"task": "hold_recall", "arch": arch, "init": "default", "seed": s,
                           "reach": r}
                          for arch, values in (("lstm", lstm), ("rnn", rnn), ("lstm_nfg", nfg))
                          for s, r in enumerate(values)])
    return stats.prediction_table(learnability_agg.verdict_rows(reach, STATS))


def test_c6_is_one_holm_family_over_the_gradient_and_the_learnability_rows():
    """The learnability prediction (reach of lstm minus rnn: 1, 1, 1, 0, 2; one-sided p about
    0.017) is supported in a family of its own. C6's verdict table joins it with the
    gradient's five counted rows, one a reversal (p near 1): one family of six, where Holm
    doubles its p and it is inconclusive; every counted row's p_adjusted is Holm over all six,
    and both sections count and show their own rows, naming the other's."""
    learn = _learnability_rows([2, 2, 2, 1, 3], [1] * 5, [1] * 5)
    assert len(learn) == 1 and learn["counted"].all()
    p = learn["p_value"].iloc[0]
    assert 0.0125 < p < 0.025
    assert stats.verdict_table(learn, STATS)["verdict"].tolist() == [stats.SUPPORTED]
    values = {**HIGHWAY, **FLAT,
              ("lstm", "jacobian", "cell", "log10_store"): (-3.1, [-0.2, -0.5, -0.1, -0.4, -0.3])}
    gradient = c6_table(values)
    table = agg.c6_verdicts(_store_table(values), SETTINGS, STATS, learn)
    assert len(table) == len(gradient) + 1 and table["counted"].sum() == 6
    row = table[table["evidence"] == learnability.EVIDENCE].iloc[0]
    assert row["verdict_unadjusted"] == stats.SUPPORTED and row["verdict"] == stats.INCONCLUSIVE
    assert row["p_adjusted"] == pytest.approx(2 * p)
    counted = table[table["counted"]]
    np.testing.assert_allclose(counted["p_adjusted"], stats.holm(counted["p_value"]))
    # the gradient's rows: the same p as in their own table, adjusted in the larger family
    keys = ["evidence", "arch"]
    both = gradient.merge(table, on=keys, suffixes=("_own", ""))
    np.testing.assert_allclose(both["p_value"], both["p_value_own"])
    assert (both["p_adjusted"] >= both["p_adjusted_own"]).all()
    assert (both["p_adjusted"] > both["p_adjusted_own"]).any()
    # the gradient's section shows its own rows only and names the other counted one
    own = section.own_rows(table)
    assert len(own) == len(gradient) and learnability.EVIDENCE not in set(own["evidence"])
    assert {line["evidence"] for line in section.claims(own)} == set(gradient["evidence"])
    first = section.result_sentences(own, pd.DataFrame(), table)[0]
    assert first.endswith("The counted ones are one Holm family, claim C6's, with its 1 other "
                          "counted prediction (the learnability sweep's, below).")
    assert section.result_sentences(gradient, pd.DataFrame())[0].endswith(
        "The counted ones are one Holm family, claim C6's.")
    # without a sweep the table is the gradient's alone
    pd.testing.assert_frame_equal(agg.c6_verdicts(_store_table(values), SETTINGS, STATS, None),
                                  gradient)


def test_c6_uses_solved_seeds_only_and_pairs_architectures_by_seed():
    solved = [True, True, True, True, False]
    values = {**HIGHWAY, ("lstm", "free", "cell", "kept_decades"): (-1.0, [0, 0, 0, 0, -50])}
    store = _store_table(values, solved=solved)
    store.loc[store["arch"] == "rnn", "solved"] = True
    table = agg.c6_verdicts(store, SETTINGS, STATS)
    p1 = table[table["evidence"] == agg.EVIDENCE["P1"]].iloc[0]
    assert p1["n_seeds"] == 4 and p1["n_unsolved"] == 1
    assert p1["verdict"] == "insufficient seeds"  # min_seeds 5
    p3 = table[table["arch"] == "lstm vs rnn"].iloc[0]
    assert p3["n_seeds"] == 4 and p3["n_unsolved"] == 1  # seed 4: lstm unsolved


def test_no_rnn_no_rnn_row_and_a_flat_change_is_not_supported():
    values = {k: v for k, v in HIGHWAY.items() if k[0] != "rnn"}
    values[("lstm", "jacobian", "cell", "log10_store")] = (-3.1, -1.1)  # the clamp changes nothing
    table = c6_table(values)
    assert not table["arch"].str.contains("rnn").any()
    p2 = table[table["evidence"] == agg.EVIDENCE["P2"]].iloc[0]
    assert p2["verdict"] != "supported"


def _section_config():
    return {"gradient_flow": {"max_lag": K, "burn_in": 2, "n_sequences": N,
                              "picks_per_sequence": 2, "clamp_value": 0.5, "interval_picks": 8},
            "roles": {"memory_units": 0.4}}


def _write(out, tmp_path):
    paths = {}
    for name in ("c6", "summary", "intervals"):
        paths[name] = str(tmp_path / f"{name}.csv")
        storage.write_csv(out[name], paths[name])
    return {"c6": paths["c6"], "c6_efold": paths["summary"], "c6_intervals": paths["intervals"]}


def test_aggregate_summary_figures_and_section(tmp_path, run_inputs):
    task = _hold_task(n=16)
    tables = gf.measure(run_inputs("lstm", task=task), Run(task.name, "lstm", "default", 0),
                        SETTINGS)
    stacked = {name: t.assign(task=task.name, arch="lstm", init="default", seed=0,
                              solved=True) for name, t in tables.items()}
    out = agg.aggregate(stacked, None, SETTINGS, STATS)
    assert {"by_lag", "efold", "summary", "intervals", "c6"} <= set(out)
    lag0 = out["by_lag"][(out["by_lag"]["lag"] == 0) & (out["by_lag"]["path"] == "total")]
    np.testing.assert_allclose(lag0["relative"], 1.0)
    summary = out["summary"]
    assert set(summary["phase"]) == {"initial", "trained"} and (summary["n_seeds"] == 1).all()
    intervals = out["intervals"]
    assert (intervals["hold"] == HOLD).all() and (intervals["n_seeds"] == 1).all()
    assert (out["c6"]["verdict"] == "insufficient seeds").all()
    assert set(out["c6"]["evidence"]) == {agg.EVIDENCE["P1"], agg.EVIDENCE["P2"]}
    for name, draw in figures.FIGURES.items():
        fig = draw({"by_lag": out["by_lag"], "interval_lag": out["interval_lag"]}, SETTINGS)
        assert fig.axes, name
        figures.plots.save(fig, str(tmp_path / f"{name}.png"), str(tmp_path / f"{name}.pdf"))
    inputs = section.Inputs(_section_config(), _write(out, tmp_path),
                            {n: str(tmp_path / f"{n}.png") for n in figures.FIGURES})
    built = section.section(inputs)
    assert built["claims"][0]["claim"] == "C6"
    assert any("the direct path carries" in s for s in built["sentences"])
    assert "e-fold trained" in built["efold_table"]
    assert "kept from lag 1, trained" in built["interval_table"]
    assert "forget = 0.5 in the Jacobian" in built["interval_table"]


def test_the_section_tables_show_the_censoring_and_each_phase_share():
    """An e-folding lag says how many seeds were censored, and '> K' only when all were;
    each phase's direct share is its own. (The verdict table's Holm p: the report's own
    `verdict_table`, tested in test_report.py.)"""
    row = {"n_seeds": 5, "max_lag": K, "efold": 6.0, "ci_low": 5.0, "ci_high": 7.0}
    assert section._efold_text({**row, "n_censored": 0}) == "6.0 [5.0, 7.0]"
    assert section._efold_text({**row, "n_censored": 2}) == \
        f"6.0 [5.0, 7.0], 2 censored (as {K})"
    assert section._efold_text({**row, "n_censored": 5}) == f"> {K} (all 5 censored)"
    summary = pd.DataFrame({"task": "t", "arch": "lstm", "init": "default",
                            "condition": "free", "state": "cell",
                            "path": "direct", "phase": ["trained", "initial"],
                            "efold": [6.0, 2.0], "ci_low": [5.0, 1.0], "ci_high": [7.0, 3.0],
                            "n_seeds": 5, "n_censored": 0, "max_lag": K,
                            "direct_share": [0.8, 0.3]})
    table = section.efold_table(summary).iloc[0]
    assert table["direct path's share, trained"] == "0.80"
    assert table["direct path's share, step 0"] == "0.30"
    assert table["e-fold trained [CI]"] == "6.0 [5.0, 7.0]"
    assert table["e-fold step 0 [CI]"] == "2.0 [1.0, 3.0]"


def test_no_solved_model_gives_empty_verdicts_a_placeholder_figure_and_a_section(
        tmp_path, run_inputs):
    task = _hold_task(n=16)
    tables = gf.measure(run_inputs("gru", task=task), Run(task.name, "gru", "default", 0),
                        SETTINGS)
    stacked = {name: t.assign(task=task.name, arch="gru", init="default", seed=0,
                              solved=False) for name, t in tables.items()}
    out = agg.aggregate(stacked, None, SETTINGS, STATS)
    assert out["summary"].empty and out["intervals"].empty
    assert (out["c6"]["n_seeds"] == 0).all() and (out["c6"]["n_unsolved"] == 1).all()
    assert (out["c6"]["verdict"] == "insufficient seeds").all()
    for name, draw in figures.FIGURES.items():
        fig = draw({"by_lag": out["by_lag"], "interval_lag": out["interval_lag"]}, SETTINGS)
        figures.plots.save(fig, str(tmp_path / f"{name}.png"), str(tmp_path / f"{name}.pdf"))
    inputs = section.Inputs(_section_config(), _write(out, tmp_path),
                            {n: str(tmp_path / f"{n}.png") for n in figures.FIGURES})
    built = section.section(inputs)
    assert built["claims"][0]["verdict"] == "not decided"
    assert "No solved seed to measure" in " ".join(built["sentences"])


def test_the_share_sentence_gives_the_measured_range_in_0_1():
    intervals = pd.DataFrame({"task": "t", "arch": ["lstm", "lstm_nfg", "gru", "lstm"],
                              "init": "default", "state": ["cell", "cell", "hidden", "cell"],
                              "path": "direct", "condition": "free", "kind": "keep",
                              "units": "all", "phase": ["trained"] * 3 + ["initial"],
                              "n_seeds": 5, "share_store": [0.05, 0.93, 0.31, 0.5]})
    trained, initial = section.share_sentence(intervals)
    assert "carries 0.05 (t, lstm) to 0.93 (t, lstm_nfg)" in trained
    assert "3 architecture" in trained
    assert initial.startswith("At step 0") and "0.50 (t, lstm) to 0.50" in initial


def test_the_paths_figure_tells_a_run_without_solved_seeds_from_one_never_run():
    """lstm_nfg solved task a, ran on task c without solving it and never ran on task b: its
    empty panels say which."""
    def rows(task, arch, solved):
        state = "cell" if arch.startswith("lstm") else "hidden"
        return [{"task": task, "arch": arch, "init": "default", "seed": 0, "solved": solved,
                 "state": state, "path": "total", "condition": "free", "lag": lag,
                 "relative": 0.5 ** lag, "step": step, "final_step": 100}
                for lag in range(4) for step in (0, 100)]

    by_lag = pd.DataFrame(rows("a", "lstm", True) + rows("a", "lstm_nfg", True)
                          + rows("b", "lstm", True) + rows("c", "lstm", True)
                          + rows("c", "lstm_nfg", False))
    fig = figures.gradient_paths(by_lag)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("c: lstm_nfg" in t and "no solved seed" in t for t in texts)
    assert any("b: lstm_nfg" in t and "not run on this task" in t for t in texts)
