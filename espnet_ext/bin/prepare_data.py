"""Stage 1: read a corpus in its own layout and write a Kaldi-style data dir.

    python -m espnet_ext.bin.prepare_data --corpus librispeech --root /data --split train-clean-100 \
        --out data/train_clean_100

A transcript line with an utterance id and empty text keeps the utterance (stage 2 drops it as
"empty text"); a line that cannot be parsed, or is not UTF-8, is skipped with a warning naming the
file and line, and the split fails only when more than --max_bad_fraction of its lines are unreadable.
"""
import argparse
import logging
import sys

from espnet_ext.corpora import (
    CorpusLayoutError,
    prepare_arabic_speech_corpus,
    prepare_cmu_arctic,
    prepare_librispeech,
    prepare_libritts,
    prepare_ljspeech,
)
from espnet_ext.corpora.data_dir import DataDirError, write_data_dir
from espnet_ext.corpora.utterance import MAX_BAD_FRACTION, Utterance, check_bad_fraction
from espnet_ext.text.normalize import normalize

CORPORA = ("librispeech", "libritts", "ljspeech", "cmu_arctic", "arabic_speech_corpus")


def read_corpus(corpus: str, root: str, split: str, category: str, skipped: list = None) -> list:
    """Dispatch to the reader of ``corpus``; ``split`` means the speaker for CMU Arctic.

    Unreadable transcript lines go to ``skipped`` (``None``: the first one raises).
    """
    kwargs = {"skipped": skipped, **({"category": category} if category else {})}
    if corpus == "librispeech":
        return prepare_librispeech(root, split, **kwargs)
    if corpus == "libritts":
        return prepare_libritts(root, split, **kwargs)
    if corpus == "ljspeech":
        return prepare_ljspeech(root, **kwargs)
    if corpus == "cmu_arctic":
        return prepare_cmu_arctic(root, split, **kwargs)
    if corpus == "arabic_speech_corpus":
        return prepare_arabic_speech_corpus(root, split, **kwargs)
    raise ValueError(f"unknown corpus {corpus!r}; known: {', '.join(CORPORA)}")


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True, choices=CORPORA, help="layout of the corpus under --root")
    parser.add_argument(
        "--root", required=True, help="folder that contains the corpus's top folder (as db.sh in ESPnet)"
    )
    parser.add_argument(
        "--split",
        default="",
        help="LibriSpeech/LibriTTS split (train-clean-100, ...), CMU Arctic speaker (bdl, ...), "
        "Arabic Speech Corpus subset (train, test); ignored for LJSpeech",
    )
    parser.add_argument("--category", default="", help="task of these utterances: asr, tts or vc (default: corpus's)")
    parser.add_argument(
        "--normalize",
        default="none",
        choices=("none", "en", "ar"),
        help="text normalisation (paper: lowercase, no punctuation; Arabic digits to ASCII)",
    )
    parser.add_argument(
        "--keep_diacritics",
        action="store_true",
        help="with --normalize ar: keep Arabic diacritics (the paper trains with and without)",
    )
    parser.add_argument(
        "--utt_suffix",
        default="",
        help="appended to every utterance id (e.g. _asr / _tts when one recording serves two tasks)",
    )
    parser.add_argument(
        "--max_bad_fraction",
        type=float,
        default=MAX_BAD_FRACTION,
        help="unparseable transcript lines (no id, wrong field count, not UTF-8) are skipped with a warning "
        "naming file and line; fail when more than this share of the split's lines is unreadable "
        "(default: %(default)s)",
    )
    parser.add_argument("--out", required=True, help="output data dir")
    return parser


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        skipped = []
        utts = read_corpus(args.corpus, args.root, args.split, args.category, skipped)
        check_bad_fraction(f"{args.corpus} {args.split}".rstrip(), len(utts), skipped, args.max_bad_fraction)
        empty = sum(not u.text.strip() for u in utts)
        if empty:  # kept here, as ESPnet's data prep does: stage 2's filter drops and lists them
            logging.warning("%s %s: %d utterance(s) with empty text (stage 2 drops them)", args.corpus, args.split,
                            empty)
        if args.normalize != "none":
            opts = {"remove_diacritics": not args.keep_diacritics} if args.normalize == "ar" else {}
            utts = [
                Utterance(u.utt_id, u.speaker, u.audio, normalize(u.text, args.normalize, **opts), u.category, u.extra)
                for u in utts
            ]
        if args.utt_suffix:
            utts = [Utterance(u.utt_id + args.utt_suffix, u.speaker, u.audio, u.text, u.category, u.extra) for u in utts]
        missing = [u for u in utts if not u.audio.is_file()]
        utts = [u for u in utts if u.audio.is_file()]
        if not utts:
            raise CorpusLayoutError(f"{args.corpus} {args.split}: none of the listed audio files exists")
        out = write_data_dir(args.out, utts)
        # Every dropped utterance is listed, never lost silently.
        report = out / "dropped_stage1.txt"
        tmp = report.with_name(report.name + ".tmp")  # format_audio copies it: never a half-written one
        tmp.write_text("".join(f"{u.utt_id} missing audio: {u.audio}\n" for u in missing), encoding="utf-8")
        tmp.replace(report)
        for u in missing:
            logging.warning("%s: audio file missing, utterance dropped: %s", u.utt_id, u.audio)
    except (CorpusLayoutError, DataDirError) as err:
        logging.error("%s", err)
        return 1
    speakers = len({u.speaker for u in utts})
    logging.info("%s %s: wrote %d utterances of %d speakers to %s", args.corpus, args.split, len(utts), speakers, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
