"""ASR decoding per utterance at base size: ours (Speech2Text) vs transformers' `generate`, same weights.

    tools/venv/bin/python benchmarks/asr_vs_transformers.py [--threads 2] [--utts 2] [--seconds 5] \
        [--tokens 75] [--repeat 3]

Issue 7, target 1: greedy and beam-5 decoding at least 2x faster per utterance than transformers'
`generate` (decoder only, no CTC: transformers has no CTC head), identical hypotheses.

Model: a random `SpeechT5ForSpeechToText` (base config, LayerNorm/BatchNorm parameters randomised so
outputs are not degenerate; eos made unlikely, see common.suppress_eos) -> save_pretrained ->
convert_speecht5 -> our Speech2Text. Every utterance decodes `--tokens` labels (15 characters per
second of speech for the default 5 s), on both sides:
- greedy: `generate(num_beams=1, max_new_tokens=N)` vs `Speech2Text(beam_size=1, ctc_weight=0,
  maxlenratio=-N)`;
- beam 5: `generate(num_beams=5, max_new_tokens=N, suppress_tokens=<s>,<pad>,<mask>,<ctc_blank>)`
  (the ids our search never emits) vs `Speech2Text(beam_size=5, ctc_weight=0, maxlenratio=-N)`.
Times include the encoder on both sides (a call = waveform in, hypothesis out); the two sides run
alternately, each utterance `--repeat` times; the figure is the median time per utterance.
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
    p.add_argument("--utts", type=int, default=2)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--tokens", type=int, default=75)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    common.setup(args.threads)
    start = time.time()
    common.header("ASR decoding vs transformers generate (issue 7, target 1)", "python " + " ".join(sys.argv))

    from transformers import SpeechT5ForSpeechToText

    from espnet_ext.bin.sttatts_inference import Speech2Text, never_output_ids

    with tempfile.TemporaryDirectory() as tmp:
        hf, model, paths = common.converted_pair(
            SpeechT5ForSpeechToText, common.hf_config(), tmp, prepare=common.suppress_eos
        )
        n = args.tokens
        greedy = Speech2Text(*paths, beam_size=1, ctc_weight=0.0, maxlenratio=-n)
        beam = Speech2Text(*paths, beam_size=5, ctc_weight=0.0, maxlenratio=-n)
    suppress = never_output_ids(beam.model)
    gen = torch.Generator().manual_seed(1)
    wavs = [0.1 * torch.randn(int(16000 * args.seconds), generator=gen) for _ in range(args.utts)]
    print(f"{args.utts} utterances of {args.seconds} s, {n} labels each; suppressed in transformers' beam: {suppress}")

    def hf_decode(wav, beams):
        kw = dict(num_beams=beams, do_sample=False, max_new_tokens=n)
        if beams > 1:
            kw["suppress_tokens"] = suppress
        return hf.generate(input_values=wav[None], **kw)[0, 1:].tolist()  # without the decoder start

    for name, ours, beams, target in (("greedy", greedy, 1, 2.0), ("beam 5", beam, 5, 2.0)):
        same = all(hf_decode(w, beams) == ours(w)[0][2] for w in wavs)
        times = {"transformers": [], "ours": []}
        with torch.no_grad():
            for w in wavs:
                t = common.alternate({"transformers": lambda: hf_decode(w, beams), "ours": lambda: ours(w)},
                                     repeat=args.repeat, warmup=0)
                for k in times:
                    times[k] += t[k]
        common.report(f"{name} per utterance", "transformers", times["transformers"], times["ours"], target,
                      outputs=common.exact("hypotheses", same))
    common.footer(start)


if __name__ == "__main__":
    main()
