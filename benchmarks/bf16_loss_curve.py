"""Loss curves of the mini model in fp32 (two seeds) and bf16 autocast: is bf16 within run-to-run noise?

    tools/venv/bin/python benchmarks/bf16_loss_curve.py [--steps 100] [--threads 2]

Issue 17, item 1 asks that the first 500 steps of the demo config under bf16 stay within the
run-to-run noise of fp32. A shorter check that fits a shared CPU: the mini model
(conf/sttatts_mini.yaml: its sizes, loss weights, Adam, warm-up schedule and gradient clipping)
trained on one fixed batch of random speech and text (half of training_step.py's mini batch:
4 ASR + 4 TTS utterances of <= 3 s), as ESPnet's Trainer steps it. Runs: fp32 seed 0, fp32 seed 1
(run-to-run noise: another initialisation and dropout), bf16 seed 0 (the same initialisation as
fp32 seed 0). Prints the loss averaged over windows of steps and, per window, |bf16 - fp32 seed 0|
next to |fp32 seed 1 - fp32 seed 0|.
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import common  # noqa: E402  (first: sets OMP_WAIT_POLICY before torch loads)
import torch  # noqa: E402
import training_step  # noqa: E402
import yaml  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
WINDOW = 10  # steps per averaged point of the curve


def half_batch(batch: dict) -> dict:
    """The first 4 ASR and first 4 TTS utterances of the mini batch (8 + 8, ASR first)."""
    n_asr = training_step.BATCH["mini"][0]
    idx = torch.tensor([0, 1, 2, 3, n_asr, n_asr + 1, n_asr + 2, n_asr + 3])
    return {k: v[idx] for k, v in batch.items()}


def curve(seed: int, amp: bool, steps: int) -> list:
    """Per-step losses of the mini model trained from seed `seed` (init + dropout)."""
    from espnet2.schedulers.warmup_lr import WarmupLR

    from espnet_ext.train.trainer import cpu_autocast

    conf = yaml.safe_load((ROOT / "conf" / "sttatts_mini.yaml").read_text())
    torch.manual_seed(seed)
    model, _ = training_step.build_ours("mini", training_step.spk_dim("mini"), as_transformers=False)
    batch = half_batch(training_step._BATCH.pop())
    optim = torch.optim.Adam(model.parameters(), **conf["optim_conf"])
    sched = WarmupLR(optim, **conf["scheduler_conf"])
    losses = []
    for _ in range(steps):
        with cpu_autocast(amp):
            loss, _, _ = model(**batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), conf["grad_clip"])
        optim.step()
        sched.step()
        optim.zero_grad()
        losses.append(loss.item())
    return losses


def windows(losses: list) -> list:
    return [sum(losses[i : i + WINDOW]) / len(losses[i : i + WINDOW]) for i in range(0, len(losses), WINDOW)]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--threads", type=int, default=common.THREADS)
    args = p.parse_args()
    common.setup(args.threads)
    start = time.time()
    common.header("Loss curves, mini model, fp32 (2 seeds) vs bf16 autocast (issue 17, item 1)",
                  "python " + " ".join(sys.argv))
    runs = {}
    for name, seed, amp in (("fp32 seed 0", 0, False), ("fp32 seed 1", 1, False), ("bf16 seed 0", 0, True)):
        t0 = time.time()
        runs[name] = windows(curve(seed, amp, args.steps))
        print(f"{name}: {args.steps} steps in {time.time() - t0:.0f} s", flush=True)
    ref, noise, bf16 = runs["fp32 seed 0"], runs["fp32 seed 1"], runs["bf16 seed 0"]
    print(f"\n| steps | fp32 seed 0 | fp32 seed 1 | bf16 seed 0 | abs(fp32 s1 - s0) (noise) | abs(bf16 - fp32 s0) |")
    print("|---|---|---|---|---|---|")
    for i, (r, n, b) in enumerate(zip(ref, noise, bf16)):
        first, last = i * WINDOW + 1, min((i + 1) * WINDOW, args.steps)
        print(f"| {first}-{last} | {r:.4f} | {n:.4f} | {b:.4f} | {abs(n - r):.4f} | {abs(b - r):.4f} |")
    within = sum(abs(b - r) <= abs(n - r) for r, n, b in zip(ref, noise, bf16))
    print(f"\nbf16 within the seed-to-seed gap in {within} of {len(ref)} windows")
    common.footer(start)


if __name__ == "__main__":
    main()
