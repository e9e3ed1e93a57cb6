"""LibriSpeech layout.

    LibriSpeech/SPEAKERS.TXT
    LibriSpeech/<split>/<spk>/<chapter>/<spk>-<chapter>-<NNNN>.flac      16 kHz, 16-bit FLAC
    LibriSpeech/<split>/<spk>/<chapter>/<spk>-<chapter>.trans.txt        "<utt-id> UPPERCASE TEXT"

Transcripts are uppercase letters, apostrophes and single spaces (numbers spelled out, no other
punctuation), one line per utterance in utterance order.
"""
import re

from espnet_ext.synth.corpus import CorpusPlan, PlannedUtterance
from espnet_ext.synth.layouts.common import librivox_readers, resolve_common, speakers_txt

CORPUS_DIR = "LibriSpeech"
SAMPLE_RATE = 16000
LANGS = ("en",)
DEFAULT_SPLITS = ("train-clean-100", "dev-clean", "test-clean")
DEFAULT_NUM_SPEAKERS = 8


def transcript(text: str) -> str:
    """'"It's 5 o'clock," said Mr. Gray.' (spoken form) -> "IT'S FIVE O'CLOCK SAID MISTER GRAY"."""
    upper = text.upper().replace("-", " ")
    upper = re.sub(r"[^A-Z' ]", " ", upper)
    upper = re.sub(r"(?<![A-Z])'|'(?![A-Z])", " ", upper)  # quote marks, not apostrophes
    return " ".join(upper.split())


def resolve(opts):
    return resolve_common(opts, LANGS, DEFAULT_NUM_SPEAKERS)


def plan(opts) -> CorpusPlan:
    readers = librivox_readers(opts, DEFAULT_SPLITS)
    utterances, transcripts = [], {}
    for r in readers:
        for chapter, sentences in r.chapters:
            folder = f"{CORPUS_DIR}/{r.split}/{r.reader_id}/{chapter}"
            lines = []
            for i, sentence in enumerate(sentences):
                utt_id = f"{r.reader_id}-{chapter}-{i:04d}"
                utterances.append(PlannedUtterance(f"{folder}/{utt_id}.flac", sentence.text, r.speaker, SAMPLE_RATE))
                lines.append(f"{utt_id} {transcript(sentence.text)}\n")
            transcripts[f"{folder}/{r.reader_id}-{chapter}.trans.txt"] = "".join(lines)

    def text_files(durations: dict) -> dict:
        minutes = {}
        for u in utterances:
            reader_id = int(u.path.split("/")[2])
            minutes[reader_id] = minutes.get(reader_id, 0.0) + durations[u.path] / 60
        rows = [(r.reader_id, r.speaker.gender, r.split, minutes[r.reader_id], r.name) for r in readers]
        return {**transcripts, f"{CORPUS_DIR}/SPEAKERS.TXT": speakers_txt(rows)}

    splits = sorted({r.split for r in readers})
    return CorpusPlan(CORPUS_DIR, utterances, text_files, f"{len(readers)} speakers in {', '.join(splits)}")
