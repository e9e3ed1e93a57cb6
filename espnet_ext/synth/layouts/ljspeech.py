"""LJSpeech layout (one speaker).

    LJSpeech-1.1/metadata.csv                 "LJ001-0001|raw text|normalized text", no header, no quoting
    LJSpeech-1.1/wavs/LJ001-0001.wav          22.05 kHz, 16-bit

Raw text keeps digits and abbreviations; normalised text spells them out. Utterances are grouped
in "chapters" (LJ001, LJ002, ...) of varying size. The last ``eval_utts_per_speaker`` utterances
read held-out sentences, so a recipe that holds out the tail of the corpus (as ESPnet's LJSpeech
recipe does) evaluates on sentences no training utterance has.
"""
import random

from espnet_ext.synth.corpus import CorpusPlan, PlannedUtterance
from espnet_ext.synth.layouts.common import resolve_common
from espnet_ext.synth.sentences import SentenceGenerator
from espnet_ext.synth.voices import draw_speakers

CORPUS_DIR = "LJSpeech-1.1"
SAMPLE_RATE = 22050
LANGS = ("en",)
CHAPTER_SIZES = (30, 120)  # utterances per LJ<chapter>


def resolve(opts):
    return resolve_common(opts, LANGS, default_speakers=1, fixed_speakers=1)


def plan(opts) -> CorpusPlan:
    n_heldout = min(opts.utts_for("test"), opts.utts_per_speaker - 1)
    gen = SentenceGenerator(opts.lang, opts.seed)
    sentences = gen.sentences(opts.utts_per_speaker - n_heldout, "train", stream="ljspeech")
    sentences += gen.sentences(n_heldout, "test", stream="ljspeech")
    (speaker,) = draw_speakers(opts.lang, "train", 1, f"ljspeech/{opts.seed}", genders=["F"])  # LJ is a woman
    rng = random.Random(f"ljspeech/{opts.seed}")
    chapter, index, left = 1, 1, rng.randint(*CHAPTER_SIZES)
    utterances, lines = [], []
    for sentence in sentences:
        utt_id = f"LJ{chapter:03d}-{index:04d}"
        utterances.append(PlannedUtterance(f"{CORPUS_DIR}/wavs/{utt_id}.wav", sentence.text, speaker, SAMPLE_RATE))
        lines.append(f"{utt_id}|{sentence.raw}|{sentence.text}\n")
        index, left = index + 1, left - 1
        if left == 0:
            chapter, index, left = chapter + 1, 1, rng.randint(*CHAPTER_SIZES)
    metadata = "".join(lines)
    return CorpusPlan(
        CORPUS_DIR, utterances, lambda durations: {f"{CORPUS_DIR}/metadata.csv": metadata},
        f"1 speaker ({speaker.voice}), last {n_heldout} utterances held out",
    )
