"""dMel TTS generation speed: real-time factor of the Small and Base LMs (Table 9 sizes), KV-cached.

    tools/venv/bin/python benchmarks/dmel_rtf.py [--threads 2] [--sizes small base] [--seconds 5] \
        [--chars 75] [--repeat 2]

Issue 7, target 4: TTS generation at 40 Hz with one model step per frame and a KV cache; report
the real-time factor of Small and Base.

Models: ESPnetDMelLM from conf/dmel_<size>.yaml (job tts, random weights, 512-d speaker vector),
40 Hz dMel frames. A prompt of one speaker position + `--chars` characters is followed by
`--seconds` x 40 generated frames (the eos threshold is set above 1, so every run generates the
same number of frames; greedy bins, temperature 0). The number of LM forward calls is counted to
show one model step per frame. RTF = generation time / generated speech duration (acoustic model
only, no vocoder). Also: the same generation without the cache for the first `--uncached_frames`
frames of Small (every step recomputes the whole sequence), per frame.
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import common  # noqa: E402  (first: sets OMP_WAIT_POLICY before torch loads)
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "▁", *"abcdefghijklmnopqrstuvwxyz'", "<mask>", "<ctc_blank>"]


def build(size: str):
    import yaml

    from espnet_ext.tasks.dmel_lm import build_dmel_model

    conf = yaml.safe_load((ROOT / "conf" / f"dmel_{size}.yaml").read_text())
    lm_conf = {**conf["lm_conf"], "dropout": 0.0}
    torch.manual_seed(0)
    return build_dmel_model(TOKENS, conf["dmel_conf"], lm_conf, {"job": "tts"}).eval()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=common.THREADS)
    p.add_argument("--sizes", nargs="+", default=["small", "base"])
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--chars", type=int, default=75)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--uncached_frames", type=int, default=40)
    args = p.parse_args()
    common.setup(args.threads)
    start = time.time()
    common.header("dMel TTS generation real-time factor (issue 7, target 4)", "python " + " ".join(sys.argv))
    gen = torch.Generator().manual_seed(1)
    text = torch.randint(4, len(TOKENS) - 2, (args.chars,), generator=gen)
    spk = torch.randn(512, generator=gen)
    for size in args.sizes:
        model = build(size)
        rate = model.tokenizer.frame_rate_hz
        frames = int(args.seconds * rate)
        calls = []
        hook = model.lm.register_forward_hook(lambda *_: calls.append(1))
        opts = dict(maxlenratio=(frames + 0.5) / args.chars, temperature=0.0, eos_threshold=2.0)

        def synth(use_cache=True, n=frames):
            o = {**opts, "maxlenratio": (n + 0.5) / args.chars}
            return model.synthesize(text, spk, use_cache=use_cache, **o)

        tokens, ended = synth()
        hook.remove()
        params = sum(p.numel() for p in model.lm.parameters()) / 1e6
        times = common.alternate({"cached": synth}, repeat=args.repeat, warmup=0)["cached"]
        t = common.median(times)
        print(f"{size}: {params:.1f}M parameters, {tokens.shape[0]} frames at {rate} Hz ({frames / rate:.1f} s) in "
              f"{t:.2f} s = {1000 * t / frames:.1f} ms per frame, {len(calls)} LM calls (prompt + one per frame); "
              f"RTF {t / (frames / rate):.3f} (median of {len(times)}; spread {min(times):.2f}-{max(times):.2f} s)")
        if size == args.sizes[0] and args.uncached_frames:
            n = args.uncached_frames
            cached = common.median(common.alternate({"c": lambda: synth(True, n)}, repeat=args.repeat, warmup=0)["c"])
            full = common.median(common.alternate({"u": lambda: synth(False, n)}, repeat=args.repeat, warmup=0)["u"])
            same = torch.equal(synth(True, n)[0], synth(False, n)[0])
            print(f"{size}, first {n} frames: KV cache {1000 * cached / n:.1f} ms per frame, recomputing the sequence "
                  f"{1000 * full / n:.1f} ms per frame ({full / cached:.1f}x); identical frames: {same}")
        del model
    common.footer(start)


if __name__ == "__main__":
    main()
