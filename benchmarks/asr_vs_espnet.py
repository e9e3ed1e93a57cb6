"""Joint CTC/attention beam search at base size: ours vs ESPnet's BatchBeamSearch + CTCPrefixScorer.

    tools/venv/bin/python benchmarks/asr_vs_espnet.py [--threads 2] [--utts 2] [--seconds 5] \
        [--tokens 75] [--repeat 3] [--ctc_weight 0.5] [--beam 5]

Issue 7, target 1: with CTC weight 0.5, beam 5, at least 2x faster per utterance than ESPnet's
`BatchBeamSearch` + `CTCPrefixScorer` on the same model, identical hypotheses.

Both sides are our Speech2Text on the same converted model (random transformers weights; the CTC
head is random too, transformers has none): `use_espnet_beam_search=True` runs ESPnet's search
with our KV-cached decoder scorer and ESPnet's CTCPrefixScorer (its CTCPrefixScoreTH loops over
encoder frames in Python at every output step); the default runs espnet_ext.sttatts.beam_search
(closed-form CTC prefix recursions, encoder memory shared by the beam). `maxlenratio = -tokens`
fixes the output length (15 characters per second of speech by default). Times include the
encoder; the two sides alternate; median over utterances x repeats.
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
    p.add_argument("--ctc_weight", type=float, default=0.5)
    p.add_argument("--beam", type=int, default=5)
    args = p.parse_args()
    common.setup(args.threads)
    start = time.time()
    common.header("Beam search with CTC vs ESPnet BatchBeamSearch + CTCPrefixScorer (issue 7, target 1)",
                  "python " + " ".join(sys.argv))

    from transformers import SpeechT5ForSpeechToText

    from espnet_ext.bin.sttatts_inference import Speech2Text

    opts = dict(beam_size=args.beam, ctc_weight=args.ctc_weight, maxlenratio=-args.tokens)
    with tempfile.TemporaryDirectory() as tmp:
        _, _, paths = common.converted_pair(SpeechT5ForSpeechToText, common.hf_config(), tmp, prepare=common.suppress_eos)
        espnet = Speech2Text(*paths, use_espnet_beam_search=True, **opts)
        ours = Speech2Text(*paths, **opts)
    gen = torch.Generator().manual_seed(1)
    wavs = [0.1 * torch.randn(int(16000 * args.seconds), generator=gen) for _ in range(args.utts)]
    print(f"{args.utts} utterances of {args.seconds} s, at most {args.tokens} labels, beam {args.beam}, "
          f"CTC weight {args.ctc_weight}")
    same, lengths = True, []
    for w in wavs:
        a, b = espnet(w), ours(w)
        same &= [r[2] for r in a] == [r[2] for r in b]
        lengths.append(len(b[0][2]))
        print(f"  best score ESPnet {float(a[0][3].score):.4f}, ours {float(b[0][3].score):.4f}, {len(b[0][2])} labels")
    times = {"espnet": [], "ours": []}
    for w in wavs:
        t = common.alternate({"espnet": lambda: espnet(w), "ours": lambda: ours(w)}, repeat=args.repeat, warmup=0)
        for k in times:
            times[k] += t[k]
    print(f"hypothesis lengths {lengths}")
    common.report("beam search + CTC per utterance", "ESPnet", times["espnet"], times["ours"], 2.0,
                  outputs=common.exact("n-best hypotheses", same))
    common.footer(start)


if __name__ == "__main__":
    main()
