"""Batched ASR decoding: 16 utterances in one `Speech2Text.batch` call vs one by one, base size.

    tools/venv/bin/python benchmarks/asr_batched.py [--threads 2] [--utts 16] [--min_seconds 2] \
        [--max_seconds 5] [--repeat 2] [--beam 5] [--ctc_weight 0.5]

Issue 7, target 1: batched decoding of 16 utterances at least 4x the throughput of decoding them
one by one (same model, same decoding settings, identical hypotheses).

Utterances of lengths spread evenly over [min_seconds, max_seconds]; the recipe's decoding
(beam 5, CTC weight 0.5) with `maxlenratio` 0.3 (15 labels per second of speech at 50 encoder
frames per second). Model: random transformers weights converted to ours (common.converted_pair).
One-by-one = `[s2t(w) for w in wavs]`; batched = `s2t.batch(wavs)`; the two alternate, `--repeat`
rounds; throughput = seconds of speech decoded per second.
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import common  # noqa: E402  (first: sets OMP_WAIT_POLICY before torch loads)
import torch  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=common.THREADS)
    p.add_argument("--utts", type=int, default=16)
    p.add_argument("--min_seconds", type=float, default=2.0)
    p.add_argument("--max_seconds", type=float, default=5.0)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--ctc_weight", type=float, default=0.5)
    p.add_argument("--maxlenratio", type=float, default=0.3)
    args = p.parse_args()
    common.setup(args.threads)
    start = time.time()
    common.header("Batched ASR decoding vs one by one (issue 7, target 1)", "python " + " ".join(sys.argv))

    from transformers import SpeechT5ForSpeechToText

    from espnet_ext.bin.sttatts_inference import Speech2Text

    with tempfile.TemporaryDirectory() as tmp:
        _, _, paths = common.converted_pair(SpeechT5ForSpeechToText, common.hf_config(), tmp, prepare=common.suppress_eos)
        s2t = Speech2Text(*paths, beam_size=args.beam, ctc_weight=args.ctc_weight, maxlenratio=args.maxlenratio)
    gen = torch.Generator().manual_seed(1)
    step = (args.max_seconds - args.min_seconds) / max(1, args.utts - 1)
    seconds = [args.min_seconds + i * step for i in range(args.utts)]
    wavs = [0.1 * torch.randn(int(16000 * s), generator=gen) for s in seconds]
    total = sum(seconds)
    print(f"{args.utts} utterances, {args.min_seconds}-{args.max_seconds} s ({total:.1f} s of speech), beam {args.beam}, "
          f"CTC weight {args.ctc_weight}, maxlenratio {args.maxlenratio}")
    s2t(wavs[0])  # warm-up
    results = {}

    def one_by_one():
        results["one"] = [s2t(w) for w in wavs]

    def batched():
        results["batch"] = s2t.batch(wavs)

    times = common.alternate({"one by one": one_by_one, "batched": batched}, repeat=args.repeat, warmup=0)
    same = [[r[2] for r in a] for a in results["one"]] == [[r[2] for r in b] for b in results["batch"]]
    print(f"labels per utterance: {[len(a[0][2]) for a in results['batch']]}")
    for k, v in times.items():
        print(f"  {k}: {common.median(v):.2f} s for the set = {total / common.median(v):.2f} s of speech per s")
    common.report("throughput (s of speech / s)", "one by one", [total / t for t in times["one by one"]],
                  [total / t for t in times["batched"]], 4.0, outputs=common.exact("n-best hypotheses", same),
                  unit="x real time", higher_is_better=True)
    common.footer(start)


if __name__ == "__main__":
    main()
