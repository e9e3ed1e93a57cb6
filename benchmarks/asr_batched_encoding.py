"""Batched speech encoding (issue 18, item 3): 16 utterances decoded in one `Speech2Text.batch` call,
encoder batched (padding masked out of the GroupNorm statistics) vs encoder one by one, vs one by one.

    tools/venv/bin/python benchmarks/asr_batched_encoding.py [--threads 2] [--utts 16] [--min_seconds 2] \
        [--max_seconds 5] [--repeat 1] [--beam 5] [--ctc_weight 0.5] [--maxlenratio 0.3]

Same model and utterances as asr_batched.py (random base weights, lengths spread over
[min_seconds, max_seconds], beam 5, CTC 0.5, maxlenratio 0.3). Sides, run alternately:
- one by one: `[s2t(w) for w in wavs]`;
- batched search, encoder one by one: `s2t.batch(wavs)` with `encode(..., one_by_one=True)` (before);
- batched search, encoder batched: `s2t.batch(wavs)` (now);
and the encoder alone, batched vs one by one. Prints the throughputs (seconds of speech per second),
the ratios, the largest encoder-output difference between batched and one-by-one encoding, and
INVALID (exit status 1) if any hypothesis differs between the sides.
"""
import argparse
import functools
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
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--ctc_weight", type=float, default=0.5)
    p.add_argument("--maxlenratio", type=float, default=0.3)
    args = p.parse_args()
    common.setup(args.threads)
    start = time.time()
    common.header("Batched encoding + batched ASR decoding (issue 18, item 3)", "python " + " ".join(sys.argv))

    from transformers import SpeechT5ForSpeechToText

    from espnet_ext.bin.sttatts_inference import Speech2Text

    opts = dict(beam_size=args.beam, ctc_weight=args.ctc_weight, maxlenratio=args.maxlenratio)
    with tempfile.TemporaryDirectory() as tmp:
        _, _, paths = common.converted_pair(SpeechT5ForSpeechToText, common.hf_config(), tmp, prepare=common.suppress_eos)
        s2t = Speech2Text(*paths, **opts)
        before = Speech2Text(*paths, **opts)
    before.model.encode = functools.partial(before.model.encode, one_by_one=True)
    gen = torch.Generator().manual_seed(1)
    step = (args.max_seconds - args.min_seconds) / max(1, args.utts - 1)
    seconds = [args.min_seconds + i * step for i in range(args.utts)]
    wavs = [0.1 * torch.randn(int(16000 * s), generator=gen) for s in seconds]
    total = sum(seconds)
    print(f"{args.utts} utterances, {args.min_seconds}-{args.max_seconds} s ({total:.1f} s of speech), beam {args.beam}, "
          f"CTC weight {args.ctc_weight}, maxlenratio {args.maxlenratio}")
    s2t(wavs[0])  # warm-up
    results = {}
    sides = {
        "one by one": lambda: results.__setitem__("one", [s2t(w) for w in wavs]),
        "batched search, encoder one by one": lambda: results.__setitem__("before", before.batch(wavs)),
        "batched search, encoder batched": lambda: results.__setitem__("now", s2t.batch(wavs)),
    }
    times = common.alternate(sides, repeat=args.repeat, warmup=0)
    model = s2t.model
    with torch.no_grad():
        enc_times = common.alternate({"one by one": lambda: model.encode("asr", wavs, one_by_one=True),
                                      "batched": lambda: model.encode("asr", wavs)}, repeat=args.repeat, warmup=0)
        enc, pad, _ = model.encode("asr", wavs)
        ref, ref_pad, _ = model.encode("asr", wavs, one_by_one=True)
    diff = float(((enc - ref).abs() * (~ref_pad)[:, :, None]).max()) if torch.equal(pad, ref_pad) else float("inf")
    ids = {k: [[r[2] for r in nbest] for nbest in v] for k, v in results.items()}
    valid = ids["one"] == ids["before"] == ids["now"]
    same = common.exact("hypotheses, batched and one by one", valid)
    print(f"identical hypotheses: {valid}; labels per utterance: {[len(a[0]) for a in ids['now']]}")
    print(f"encoder output, batched vs one by one: same padding {torch.equal(pad, ref_pad)}, max |diff| {diff:.2e} "
          f"(output max |x| {float(ref.abs().max()):.2f})")
    for k, v in times.items():
        print(f"  {k}: {common.median(v):.2f} s for the set = {total / common.median(v):.2f} s of speech per s")
    for k, v in enc_times.items():
        print(f"  encoder only, {k}: {common.median(v):.2f} s for the set")
    tput = {k: [total / t for t in v] for k, v in times.items()}
    common.report("throughput, encoder batched", "one by one", tput["one by one"],
                  tput["batched search, encoder batched"], 4.0, unit="x real time", higher_is_better=True,
                  outputs=same)
    common.report("throughput, encoder batched", "encoder one by one", tput["batched search, encoder one by one"],
                  tput["batched search, encoder batched"], 1.0, unit="x real time", higher_is_better=True,
                  outputs=same)
    common.report("encoder", "one by one", enc_times["one by one"], enc_times["batched"], 1.0,
                  outputs=common.within("encoder output, batched vs one by one", diff, 1e-3))
    common.footer(start)
    if not valid or diff > 1e-3:
        print("INVALID: batched and one-by-one outputs differ")
        sys.exit(1)


if __name__ == "__main__":
    main()
