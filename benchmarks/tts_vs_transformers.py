"""TTS synthesis at base size: ours (Text2Speech) vs transformers' `generate_speech`, same weights.

    tools/venv/bin/python benchmarks/tts_vs_transformers.py [--threads 2] [--chars 75] [--seconds 5] \
        [--repeat 3] [--batch 8]

Issue 7, target 2: at least 1.5x faster than transformers' `generate_speech` (identical mel frames
with the pre-net dropout off); acoustic-model real-time factor at base size on 2 threads <= 0.35
(transformers measured here: about 0.68); batched synthesis supported.

Model: a random `SpeechT5ForTextToSpeech` (base config, norms randomised, stop logit bias -10 so
that synthesis runs to the length limit on both sides: `--seconds` of speech from `--chars` input
tokens) -> save_pretrained -> convert_speecht5 -> our Text2Speech (pre-net dropout off on both
sides). Timed: text ids + speaker embedding in, mel after the postnet out (acoustic model only, no
vocoder; ours without cross-attention maps, as `generate_speech` by default). RTF = synthesis
time / duration of the generated speech (frames x 256 / 16 kHz). Batched: `--batch` texts of
60-100 % of `--chars` in one `Text2Speech.batch` call vs the same texts one by one (ours).
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import common  # noqa: E402  (first: sets OMP_WAIT_POLICY before torch loads)
import torch  # noqa: E402

HOP, FS = 256, 16000
# max |mel difference| (log-mel units) of two sides computing the same synthesis: float32 summation
# order (measured: 3e-06 at base size, RESULTS.md); a wrong kernel is off by 1e-2 or more
MEL_TOLERANCE = 1e-4


def mel_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| of two (frames, 80) mels; inf when their frame counts differ."""
    return float((a - b).abs().max()) if a.shape == b.shape else float("inf")


def never_stop(hf) -> None:
    with torch.no_grad():
        hf.speech_decoder_postnet.prob_out.bias.fill_(-10.0)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=common.THREADS)
    p.add_argument("--chars", type=int, default=75)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--batch", type=int, default=8)
    args = p.parse_args()
    common.setup(args.threads)
    start = time.time()
    common.header("TTS synthesis vs transformers generate_speech (issue 7, target 2)", "python " + " ".join(sys.argv))

    from transformers import SpeechT5ForTextToSpeech

    from espnet_ext.bin.sttatts_inference import Text2Speech

    with tempfile.TemporaryDirectory() as tmp:
        hf, _, paths = common.converted_pair(SpeechT5ForTextToSpeech, common.hf_config(), tmp, prepare=never_stop)
        hf.speecht5.decoder.prenet._consistent_dropout = lambda x, p: x  # its pre-net dropout stays on in eval
        r = hf.config.reduction_factor
        steps = int(args.seconds * FS / HOP / r)
        ratio = (steps + 0.5) * r / args.chars  # maxlen = int(chars * ratio / r) = steps
        tts = Text2Speech(*paths, use_prenet_dropout=False, maxlenratio=ratio)
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(4, common.HF_VOCAB - 2, (args.chars,), generator=gen)
    ids[-1] = hf.config.eos_token_id
    spk = torch.randn(512, generator=gen)
    audio = steps * r * HOP / FS

    def ours():
        return tts.batch([ids], [spk], need_attn=False, vocode=False)[0]["feat_gen"]

    def reference():
        return hf.generate_speech(ids[None], spk[None], threshold=0.5, maxlenratio=ratio)

    with torch.no_grad():
        a, b = reference(), ours()
    print(f"{args.chars} input tokens -> {steps} decoder steps = {a.shape[0]} frames = {audio:.2f} s of speech")
    frames = common.within(f"mel frames {tuple(a.shape)} / {tuple(b.shape)}", mel_diff(a, b), MEL_TOLERANCE)
    times = common.alternate({"transformers": reference, "ours": ours}, repeat=args.repeat, warmup=0)
    common.report("synthesis per utterance", "transformers", times["transformers"], times["ours"], 1.5,
                  outputs=frames)
    rtf_ref, rtf = common.median(times["transformers"]) / audio, common.median(times["ours"]) / audio
    print(f"real-time factor (one utterance, {args.threads} threads): transformers {rtf_ref:.3f}, ours {rtf:.3f} "
          f"(target <= 0.35: {common.verdict(0.35 / rtf, 1.0, frames)})")

    # batched synthesis: throughput of one batch vs the same texts one by one
    lengths = [int(args.chars * (0.6 + 0.4 * i / max(1, args.batch - 1))) for i in range(args.batch)]
    texts = [torch.cat([torch.randint(4, common.HF_VOCAB - 2, (n - 1,), generator=gen), ids[-1:]]) for n in lengths]
    spks = [torch.randn(512, generator=gen) for _ in texts]
    total = sum(int(n * ratio / r) * r * HOP / FS for n in lengths)
    out = {}

    def batched():
        out["batch"] = tts.batch(texts, spks, vocode=False)

    def one_by_one():
        out["one"] = [tts.batch([t], [s], vocode=False)[0] for t, s in zip(texts, spks)]

    bt = common.alternate({"one by one": one_by_one, "batched": batched}, repeat=1, warmup=0)
    diff = max(mel_diff(x["feat_gen"], y["feat_gen"]) for x, y in zip(out["batch"], out["one"]))
    print(f"batch of {args.batch} texts ({total:.1f} s of speech): one by one {bt['one by one'][0]:.1f} s, "
          f"batched {bt['batched'][0]:.1f} s; throughput RTF "
          f"{bt['one by one'][0] / total:.3f} -> {bt['batched'][0] / total:.3f}")
    common.check_outputs("batched vs one by one",
                         common.within(f"mel frames of {args.batch} texts", diff, MEL_TOLERANCE))
    common.footer(start)


if __name__ == "__main__":
    main()
