"""CTC-drafted greedy ASR decoding (issue 18, item 1) vs plain greedy and transformers' `generate`.

    tools/venv/bin/python benchmarks/asr_ctc_draft.py [--threads 2] [--utts 2] [--seconds 5] \
        [--tokens 75] [--repeat 3] [--draft_error 0.1]

Model: random base-size weights (common.converted_pair, eos suppressed: every utterance decodes
`--tokens` labels); our copy keeps the converter's random CTC head. Sides, run alternately, the
encoder included in each (a call = waveform in, hypothesis out):
- transformers `generate(num_beams=1)`;
- ours, plain greedy (`Speech2Text(beam_size=1, ctc_weight=0)`);
- ours, drafted by the model's own CTC best path (`ctc_draft=True`): on random weights the CTC head
  and the decoder never agree, so this measures the cost of drafting when drafts fail;
- ours, drafted by the greedy hypothesis itself ("perfect draft"): the upper bound, what a trained
  model whose CTC best path equals its attention decoder's output gets;
- ours, the greedy hypothesis with `--draft_error` of its labels substituted at random (a trained
  model whose CTC and decoder disagree on some labels).
Without --model_tag the draft quality is simulated; the tokens must be greedy's in every case.
With --model_tag (a packed zip, e.g. `make demo`'s exp/sttatts_sttatts_mini/sttatts_sttatts_mini.zip)
and --wav_scp (its test audio, e.g. dump/raw/test_asr_test_clean/wav.scp): the trained model's own
CTC drafts against its plain greedy decoding on the first --utts utterances (transformers has no
counterpart of a trained STTATTS model, so that side is left out). Prints decoder passes per
utterance and acceptance (accepted draft labels / tokens; / drafted labels), the ratios, and
INVALID (exit status 1) if any hypothesis differs from transformers' greedy one.
"""
import argparse
import random
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
    p.add_argument("--utts", type=int, default=2)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--tokens", type=int, default=75)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--draft_error", type=float, default=0.1, help="share of the labels of the noisy draft substituted")
    p.add_argument("--model_tag", help="a packed STTATTS zip: measure its own CTC drafts on --wav_scp")
    p.add_argument("--wav_scp", help="with --model_tag: the test utterances (the first --utts of them)")
    args = p.parse_args()
    if args.model_tag:
        return trained_main(args)
    common.setup(args.threads)
    start = time.time()
    common.header("CTC-drafted greedy ASR decoding (issue 18, item 1)", "python " + " ".join(sys.argv))

    from transformers import SpeechT5ForSpeechToText

    from espnet_ext.bin.sttatts_inference import Speech2Text
    from espnet_ext.speecht5.generate import ctc_drafted_greedy_decode_text

    n = args.tokens
    with tempfile.TemporaryDirectory() as tmp:
        hf, _, paths = common.converted_pair(SpeechT5ForSpeechToText, common.hf_config(), tmp, prepare=common.suppress_eos)
        greedy = Speech2Text(*paths, beam_size=1, ctc_weight=0.0, maxlenratio=-n)
        ctc = Speech2Text(*paths, beam_size=1, ctc_weight=0.0, maxlenratio=-n, ctc_draft=True)
    model = greedy.model
    gen = torch.Generator().manual_seed(1)
    wavs = [0.1 * torch.randn(int(16000 * args.seconds), generator=gen) for _ in range(args.utts)]
    print(f"{args.utts} utterances of {args.seconds} s, {n} labels each; random base weights")

    def hf_decode(wav):
        return hf.generate(input_values=wav[None], num_beams=1, do_sample=False, max_new_tokens=n)[0, 1:].tolist()

    with torch.no_grad():
        reference = [hf_decode(w) for w in wavs]
    rng = random.Random(0)
    labels = range(4, len(model.token_list) - 2)  # the characters
    noisy = [[rng.choice(labels) if rng.random() < args.draft_error else t for t in ref] for ref in reference]
    stats = {"ctc": ctc.draft_stats, "perfect": {}, "noisy": {}}

    def drafted(i, draft, stat):
        _, pad_mask, memory = model.encode("asr", [wavs[i]])
        ys, _ = ctc_drafted_greedy_decode_text(model.backbone, memory, pad_mask, draft, n, stat)
        return ys[1:].tolist()

    sides = {
        "transformers": lambda i: hf_decode(wavs[i]),
        "greedy": lambda i: greedy(wavs[i])[0][2],
        "draft ctc": lambda i: ctc(wavs[i])[0][2],
        "draft perfect": lambda i: drafted(i, reference[i], stats["perfect"]),
        f"draft {args.draft_error:.0%} wrong": lambda i: drafted(i, noisy[i], stats["noisy"]),
    }
    outputs = {name: [fn(i) for i in range(len(wavs))] for name, fn in sides.items()}  # also the warm-up
    for s in stats.values():
        s.clear()
    times = {name: [] for name in sides}
    with torch.no_grad():
        for i in range(len(wavs)):
            t = common.alternate({name: (lambda fn=fn: fn(i)) for name, fn in sides.items()}, args.repeat, warmup=0)
            for name in sides:
                times[name] += t[name]
    valid = all(out == reference for out in outputs.values())
    print(f"identical hypotheses (every side = transformers' greedy): {valid}")
    same = common.exact("hypotheses (every side = transformers' greedy)", valid)
    calls = args.utts * args.repeat
    for name, key in (("draft ctc", "ctc"), ("draft perfect", "perfect"), (f"draft {args.draft_error:.0%} wrong", "noisy")):
        s = stats[key]
        print(f"{name}: decoder passes per utterance {s['passes'] / calls:.1f} (plain greedy {n}); accepted draft "
              f"labels {s['accepted'] / s['tokens']:.0%} of the tokens, {s['accepted'] / max(1, s['drafted']):.0%} of "
              f"the drafted labels")
    for name in sides:
        if name != "transformers":
            common.report(f"{name} per utterance", "transformers", times["transformers"], times[name], 3.0,
                          outputs=same)
    for name in list(sides)[2:]:
        common.report(f"{name} per utterance", "plain greedy", times["greedy"], times[name], 1.0, outputs=same)
    common.footer(start)
    if not valid:
        print("INVALID: a hypothesis differs from greedy decoding's")
        sys.exit(1)


def trained_main(args):
    """A trained model's CTC drafts vs its plain greedy decoding, on real test audio."""
    common.setup(args.threads)
    start = time.time()
    common.header("CTC-drafted greedy ASR decoding on a trained model (issue 18, item 1)",
                  "python " + " ".join(sys.argv))
    import soundfile as sf

    from espnet_ext.bin.sttatts_inference import Speech2Text

    opts = dict(model_tag=args.model_tag, beam_size=1, ctc_weight=0.0)
    greedy = Speech2Text.from_pretrained(**opts)
    drafted = Speech2Text.from_pretrained(**opts, ctc_draft=True)
    lines = Path(args.wav_scp).read_text(encoding="utf-8").splitlines()[: args.utts]
    wavs = [sf.read(line.split(maxsplit=1)[1], dtype="float32")[0] for line in lines]
    print(f"{len(wavs)} utterances ({sum(map(len, wavs)) / 16000:.1f} s) of {args.wav_scp}; {args.model_tag}")
    hyps = {"greedy": [greedy(w)[0][2] for w in wavs], "drafted": [drafted(w)[0][2] for w in wavs]}  # warm-up
    drafted.draft_stats.clear()
    times = common.alternate({"greedy": lambda: [greedy(w) for w in wavs],
                              "drafted": lambda: [drafted(w) for w in wavs]}, repeat=args.repeat, warmup=0)
    s, calls = drafted.draft_stats, len(wavs) * args.repeat
    tokens = sum(len(h) + 1 for h in hyps["greedy"]) / len(wavs)  # + eos: greedy's decoder passes
    print(f"decoder passes per utterance: drafted {s['passes'] / calls:.1f}, plain greedy {tokens:.1f}; accepted "
          f"draft labels {s['accepted'] / max(1, s['tokens']):.0%} of the tokens, "
          f"{s['accepted'] / max(1, s['drafted']):.0%} of the drafted labels")
    same = common.exact("hypotheses, drafted = plain greedy", hyps["greedy"] == hyps["drafted"])
    common.report("test set, drafted vs plain greedy", "plain greedy", times["greedy"], times["drafted"], 1.0,
                  outputs=same)
    common.footer(start)


if __name__ == "__main__":
    main()
