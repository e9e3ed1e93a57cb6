r"""Synthesize a small corpus in the exact layout of a real one, spoken by espeak-ng voices.

    python -m espnet_ext.bin.make_mini_corpus --layout librispeech --out corpora \
        [--lang en] [--num_speakers 8] [--utts_per_speaker 20] [--seed 0] \
        [--splits train-clean-100 dev-clean test-clean] [--nj 2]

Sentences come from our own grammar over word lists (thousands of distinct sentences); dev/test
splits get held-out voices and held-out sentences. Output is deterministic for a seed, and a
rerun with the same options only writes what is missing.
"""
import argparse
import json
import logging
import sys

from espnet_ext.synth.corpus import CorpusOptions, make_corpus
from espnet_ext.synth.layouts import LAYOUTS


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m espnet_ext.bin.make_mini_corpus",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--layout", required=True, choices=LAYOUTS,
        help="corpus layout to write: librispeech (16 kHz FLAC, <spk>-<chapter>.trans.txt, SPEAKERS.TXT), "
        "libritts (24 kHz wav + .normalized.txt/.original.txt), ljspeech (22.05 kHz, metadata.csv), "
        "cmu_arctic (16 kHz, etc/txt.done.data, same prompts for every speaker), "
        "arabic_speech_corpus (48 kHz, Buckwalter transcripts, 'test set/')",
    )
    parser.add_argument(
        "--lang", choices=("en", "ar"), default=None,
        help="language of the sentences and voices (default: the corpus's own: ar for "
        "arabic_speech_corpus, en for the others; other combinations are refused)",
    )
    parser.add_argument(
        "--out", required=True, help="output folder; the corpus's top folder (e.g. LibriSpeech/) is created in it"
    )
    parser.add_argument(
        "--num_speakers", type=int, default=None,
        help="speakers per training split (librispeech/libritts, default 8), speakers in total "
        "(cmu_arctic, default 4, named bdl, slt, clb, rms, ...); must be 1 for ljspeech and "
        "arabic_speech_corpus",
    )
    parser.add_argument(
        "--utts_per_speaker", type=int, default=20,
        help="utterances per speaker in training splits (librispeech/libritts); all utterances of "
        "ljspeech and all prompts of cmu_arctic (the last --eval_utts_per_speaker of them read held-out "
        "sentences); the training utterances of arabic_speech_corpus, whose 'test set/' comes on top "
        "(default: 20)",
    )
    parser.add_argument(
        "--eval_num_speakers", type=int, default=None,
        help="speakers per dev/test split (held-out voices; default: max(2, num_speakers // 4))",
    )
    parser.add_argument(
        "--eval_utts_per_speaker", type=int, default=None,
        help="utterances per speaker in dev/test splits, held-out sentences; for ljspeech and "
        "cmu_arctic the number of final utterances/prompts that read held-out sentences, for "
        "arabic_speech_corpus the size of 'test set/' (default: max(2, utts_per_speaker // 4))",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="random seed: same seed and options, same corpus (default: 0)"
    )
    parser.add_argument(
        "--splits", nargs="+", default=None,
        help="librispeech/libritts splits to write, named train-*, dev-* or test-* "
        "(default: train-clean-100 dev-clean test-clean); ignored by the other layouts",
    )
    parser.add_argument("--nj", type=int, default=2, help="parallel espeak-ng jobs (default: 2)")
    parser.add_argument("--no_progress", action="store_true", help="no progress bar")
    return parser


def main(argv=None) -> dict:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    opts = CorpusOptions(
        layout=args.layout,
        lang=args.lang,
        num_speakers=args.num_speakers,
        utts_per_speaker=args.utts_per_speaker,
        seed=args.seed,
        splits=tuple(args.splits or ()),
        eval_num_speakers=args.eval_num_speakers,
        eval_utts_per_speaker=args.eval_utts_per_speaker,
    )
    try:
        report = make_corpus(opts, args.out, nj=args.nj, progress=not args.no_progress)
    except (ValueError, RuntimeError) as err:
        sys.exit(f"make_mini_corpus: error: {err}")
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
