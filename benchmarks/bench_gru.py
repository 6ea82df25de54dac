"""Could the GRU train faster? nn.GRU against the alternatives tried (one thread).

    python benchmarks/bench_gru.py [--repeats 20] [--seeds 5]

One training step's forward and backward (B = 64, T = 100, H = 32, 8 inputs; a random linear
loss on every step), in the same run:
- "nn.GRU": PyTorch's module (no fused CPU kernel: the recurrence runs op by op in C++);
- "by hand": the GRU's equations with a hand-written backward pass (`HandGRU`, an
  `autograd.Function`: the per-step work in Python, the weight gradients as one product over
  all steps); checked against nn.GRU's outputs and gradients first;
- "S stacked": S seeds' GRUs as one block-diagonal nn.GRU of S * H units (the cost only: the
  off-diagonal blocks would need masking to keep the seeds apart), against S separate nn.GRU;
- "S batched": S seeds' GRUs with their own weights, each step one batched matrix product over
  the seeds (`seed_batched_gru`, autograd; checked against S nn.GRUs first), against S separate
  nn.GRU: what training the seeds of a cell together could gain at best;
- the same for the LSTM, whose module runs on oneDNN's fused kernel.
The answer so far (benchmarks/README.md): nothing here beats nn.GRU by enough to be worth a second
implementation of its backward pass, so the study trains on the modules themselves.
"""

import argparse
import os
import statistics
import time

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_name] = "1"

import torch  # noqa: E402
from torch import nn  # noqa: E402

torch.set_num_threads(1)
B, T, N_IN, H = 64, 100, 8, 32


class HandGRU(torch.autograd.Function):
    """PyTorch's GRU (r, z, n; h = n + z (h_prev - n)) with its backward pass written out."""

    @staticmethod
    def forward(ctx, x, w_ih, w_hh, b_ih, b_hh):
        batch, steps, _ = x.shape
        hidden = w_hh.shape[1]
        gi = torch.addmm(b_ih, x.reshape(batch * steps, -1), w_ih.t())
        gi = gi.view(batch, steps, 3 * hidden).transpose(0, 1)
        w_hh_t = w_hh.t().contiguous()
        hs = x.new_zeros(steps + 1, batch, hidden)
        rz = x.new_empty(steps, batch, 2 * hidden)
        n = x.new_empty(steps, batch, hidden)
        ghn = x.new_empty(steps, batch, hidden)
        h = hs[0]
        for t in range(steps):
            gh = torch.addmm(b_hh, h, w_hh_t)
            torch.sigmoid(gi[t, :, :2 * hidden] + gh[:, :2 * hidden], out=rz[t])
            ghn[t] = gh[:, 2 * hidden:]
            torch.tanh(torch.addcmul(gi[t, :, 2 * hidden:], rz[t, :, :hidden], ghn[t]),
                       out=n[t])
            h = torch.lerp(n[t], h, rz[t, :, hidden:], out=hs[t + 1])
        ctx.save_for_backward(x, w_hh, hs, rz, n, ghn)
        return hs[1:].transpose(0, 1)

    @staticmethod
    def backward(ctx, grad_out):
        x, w_hh, hs, rz, n, ghn = ctx.saved_tensors
        steps, batch, hidden = n.shape
        r, z = rz[..., :hidden], rz[..., hidden:]
        h_prev = hs[:-1]
        d_z_of_h = (h_prev - n) * z * (1 - z)  # d(pre-activation of z) / dh, all steps at once
        d_n_of_h = (1 - n * n) * (1 - z)
        d_r_of_n = ghn * r * (1 - r)
        go = grad_out.transpose(0, 1)
        d_gh = x.new_empty(steps, batch, 3 * hidden)  # d(pre-activations) of the h side
        d_an = x.new_empty(steps, batch, hidden)
        dh = x.new_zeros(batch, hidden)
        for t in range(steps - 1, -1, -1):
            dh = dh + go[t]
            e = d_gh[t]
            torch.mul(dh, d_n_of_h[t], out=d_an[t])
            torch.mul(d_an[t], d_r_of_n[t], out=e[:, :hidden])
            torch.mul(dh, d_z_of_h[t], out=e[:, hidden:2 * hidden])
            torch.mul(d_an[t], r[t], out=e[:, 2 * hidden:])
            dh = torch.addmm(dh * z[t], e, w_hh)
        d_gi = torch.cat([d_gh[..., :2 * hidden], d_an], -1).transpose(0, 1)
        d_gi = d_gi.reshape(batch * steps, 3 * hidden)
        d_gh = d_gh.reshape(steps * batch, 3 * hidden)
        return (None, d_gi.t() @ x.reshape(batch * steps, -1),
                d_gh.t() @ h_prev.reshape(steps * batch, hidden), d_gi.sum(0), d_gh.sum(0))


def seed_batched_gru(x, w_ih, w_hh, b_ih, b_hh):
    """S GRUs at once: x `[S, B, T, in]`, weights stacked over seeds; `[S, B, T, H]` out."""
    seeds, batch, steps, _ = x.shape
    hidden = w_hh.shape[2]
    gi = torch.baddbmm(b_ih.unsqueeze(1), x.reshape(seeds, batch * steps, -1),
                       w_ih.transpose(1, 2)).view(seeds, batch, steps, 3 * hidden)
    w_hh_t, b_hh = w_hh.transpose(1, 2), b_hh.unsqueeze(1)
    h, out = x.new_zeros(seeds, batch, hidden), []
    for g in gi.unbind(2):  # unbind: indexing gi[:, :, t] would make backward quadratic in T
        gh = torch.baddbmm(b_hh, h, w_hh_t)
        rz = torch.sigmoid(g[..., :2 * hidden] + gh[..., :2 * hidden])
        n = torch.tanh(g[..., 2 * hidden:] + rz[..., :hidden] * gh[..., 2 * hidden:])
        h = torch.lerp(n, h, rz[..., hidden:])
        out.append(h)
    return torch.stack(out, 2)


GRU_PARAMETERS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


def stacked_parameters(modules):
    return [torch.stack([getattr(m, n) for m in modules]).detach().requires_grad_()
            for n in GRU_PARAMETERS]


def check_seed_batched(seeds: int) -> float:
    """Largest difference from `seeds` nn.GRUs, outputs and relative weight gradients."""
    modules = [nn.GRU(N_IN, H, batch_first=True) for _ in range(seeds)]
    x, g = torch.randn(seeds, B, T, N_IN), torch.randn(seeds, B, T, H)
    params = stacked_parameters(modules)
    out = seed_batched_gru(x, *params)
    ref = torch.stack([m(x[s])[0] for s, m in enumerate(modules)])
    (out * g).sum().backward()
    (ref * g).sum().backward()
    worst = float((out - ref).detach().abs().max())
    for p, name in zip(params, GRU_PARAMETERS, strict=True):
        for s, m in enumerate(modules):
            ref_grad = getattr(m, name).grad
            worst = max(worst, float((p.grad[s] - ref_grad).abs().max() / ref_grad.abs().max()))
    return worst


def hand_gru(x, module: nn.GRU):
    return HandGRU.apply(x, module.weight_ih_l0, module.weight_hh_l0, module.bias_ih_l0,
                         module.bias_hh_l0)


def check_hand_gru() -> float:
    """Largest difference from nn.GRU, outputs and relative weight gradients."""
    module, x, g = nn.GRU(N_IN, H, batch_first=True), torch.randn(B, T, N_IN), torch.randn(B, T, H)
    worst = 0.0
    grads = []
    for forward in (lambda: module(x)[0], lambda: hand_gru(x, module)):
        module.zero_grad()
        out = forward()
        (out * g).sum().backward()
        grads.append((out.detach(), [p.grad.clone() for p in module.parameters()]))
    (a, ga), (b, gb) = grads
    worst = float((a - b).abs().max())
    for p, q in zip(ga, gb, strict=True):
        worst = max(worst, float((p - q).abs().max() / p.abs().max()))
    return worst


def step_ms(forward, g, repeats: int) -> float:
    """Median milliseconds of forward + backward of sum(output * g)."""
    times = []
    for i in range(repeats + 3):
        start = time.perf_counter()
        (forward() * g).sum().backward()
        if i >= 3:
            times.append(1e3 * (time.perf_counter() - start))
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    print(f"hand-written GRU vs nn.GRU, largest difference: {check_hand_gru():.1e}")
    x, g = torch.randn(B, T, N_IN), torch.randn(B, T, H)
    gru = nn.GRU(N_IN, H, batch_first=True)
    plain = step_ms(lambda: gru(x)[0], g, args.repeats)
    hand = step_ms(lambda: hand_gru(x, gru), g, args.repeats)
    print(f"GRU step: nn.GRU {plain:.1f} ms, by hand {hand:.1f} ms ({hand / plain:.2f}x)")
    s = args.seeds
    print(f"{s} seed-batched GRUs vs {s} nn.GRU, largest difference: "
          f"{check_seed_batched(s):.1e}")
    modules = [nn.GRU(N_IN, H, batch_first=True) for _ in range(s)]
    params = stacked_parameters(modules)
    xb, gb = torch.randn(s, B, T, N_IN), torch.randn(s, B, T, H)
    separate = sum(step_ms(lambda m=m, k=k: m(xb[k])[0], gb[k], args.repeats)
                   for k, m in enumerate(modules))
    batched = step_ms(lambda: seed_batched_gru(xb, *params), gb, args.repeats)
    print(f"GRU: {s} seeds batched {batched:.1f} ms vs {s} separate {separate:.1f} ms "
          f"({batched / separate:.2f}x)")
    xs, gs = torch.randn(B, T, N_IN * s), torch.randn(B, T, H * s)
    for cls in (nn.GRU, nn.LSTM):
        one = cls(N_IN, H, batch_first=True)
        stacked = cls(N_IN * s, H * s, batch_first=True)
        separate = s * step_ms(lambda m=one: m(x)[0], g, args.repeats)
        together = step_ms(lambda m=stacked: m(xs)[0], gs, args.repeats)
        print(f"{cls.__name__}: {s} seeds stacked block-diagonally {together:.1f} ms vs {s} "
              f"separate {separate:.1f} ms ({together / separate:.2f}x)")


if __name__ == "__main__":
    main()
