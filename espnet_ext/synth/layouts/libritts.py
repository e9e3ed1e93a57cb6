"""LibriTTS layout.

    LibriTTS/SPEAKERS.txt, LibriTTS/speakers.tsv
    LibriTTS/<split>/<spk>/<chapter>/<spk>_<chapter>_<PPPPPP>_<SSSSSS>.wav              24 kHz, 16-bit
    LibriTTS/<split>/<spk>/<chapter>/<spk>_<chapter>_<PPPPPP>_<SSSSSS>.original.txt     as printed
    LibriTTS/<split>/<spk>/<chapter>/<spk>_<chapter>_<PPPPPP>_<SSSSSS>.normalized.txt   as read
    LibriTTS/<split>/<spk>/<chapter>/<spk>_<chapter>.trans.tsv   "<id>\\t<original>\\t<normalized>"
    LibriTTS/<split>/<spk>/<chapter>/<spk>_<chapter>.book.tsv    "<id>\\t<original>\\t<normalized>\\ttrue\\t<SNR>"

PPPPPP is the paragraph and SSSSSS the sentence within it (both from 0). The original text keeps
digits and abbreviations ("Mr. Gray paid $5"); the normalised text spells them out ("Mister Gray
paid five dollars"), keeping case and punctuation, as LibriTTS does. The per-utterance text files
have no trailing newline.
"""
import random

from espnet_ext.synth.corpus import CorpusPlan, PlannedUtterance
from espnet_ext.synth.layouts.common import librivox_readers, resolve_common, speakers_txt

CORPUS_DIR = "LibriTTS"
SAMPLE_RATE = 24000
LANGS = ("en",)
DEFAULT_SPLITS = ("train-clean-100", "dev-clean", "test-clean")
DEFAULT_NUM_SPEAKERS = 8
MAX_SENTENCES_PER_PARAGRAPH = 3


def resolve(opts):
    return resolve_common(opts, LANGS, DEFAULT_NUM_SPEAKERS)


def plan(opts) -> CorpusPlan:
    readers = librivox_readers(opts, DEFAULT_SPLITS)
    utterances, files = [], {}
    for r in readers:
        rng = random.Random(f"libritts/{opts.seed}/{r.reader_id}")  # paragraphs: per reader
        for chapter, sentences in r.chapters:
            folder = f"{CORPUS_DIR}/{r.split}/{r.reader_id}/{chapter}"
            trans, book = [], []
            paragraph, index, left = 0, 0, rng.randint(1, MAX_SENTENCES_PER_PARAGRAPH)
            for sentence in sentences:
                utt_id = f"{r.reader_id}_{chapter}_{paragraph:06d}_{index:06d}"
                utterances.append(PlannedUtterance(f"{folder}/{utt_id}.wav", sentence.text, r.speaker, SAMPLE_RATE))
                files[f"{folder}/{utt_id}.original.txt"] = sentence.raw
                files[f"{folder}/{utt_id}.normalized.txt"] = sentence.text
                trans.append(f"{utt_id}\t{sentence.raw}\t{sentence.text}\n")
                book.append(f"{utt_id}\t{sentence.raw}\t{sentence.text}\ttrue\t{rng.uniform(18, 40):.6f}\n")
                index, left = index + 1, left - 1
                if left == 0:
                    paragraph, index, left = paragraph + 1, 0, rng.randint(1, MAX_SENTENCES_PER_PARAGRAPH)
            files[f"{folder}/{r.reader_id}_{chapter}.trans.tsv"] = "".join(trans)
            files[f"{folder}/{r.reader_id}_{chapter}.book.tsv"] = "".join(book)

    def text_files(durations: dict) -> dict:
        minutes = {}
        for u in utterances:
            reader_id = int(u.path.split("/")[2])
            minutes[reader_id] = minutes.get(reader_id, 0.0) + durations[u.path] / 60
        rows = [(r.reader_id, r.speaker.gender, r.split, minutes[r.reader_id], r.name) for r in readers]
        tsv = "READER\tGENDER\tSUBSET\tNAME\n" + "".join(
            f"{rid}\t{sex}\t{subset}\t{name}\n" for rid, sex, subset, _, name in sorted(rows)
        )
        return {**files, f"{CORPUS_DIR}/SPEAKERS.txt": speakers_txt(rows), f"{CORPUS_DIR}/speakers.tsv": tsv}

    splits = sorted({r.split for r in readers})
    return CorpusPlan(CORPUS_DIR, utterances, text_files, f"{len(readers)} speakers in {', '.join(splits)}")
