"""Arabic Speech Corpus layout (one speaker, Buckwalter transcripts).

    arabic-speech-corpus/wav/ARA NORM  0001.wav        48 kHz, 16-bit (two spaces in the name)
    arabic-speech-corpus/lab/ARA NORM  0001.lab        the transcript (UTF-8 BOM; '*' written 'TH')
    arabic-speech-corpus/orthographic-transcript.txt   '"ARA NORM  0001.wav" "<Buckwalter>"'
    arabic-speech-corpus/phonetic-transcipt.txt        (sic) '"ARA NORM  0001.wav" "sil ... sil"'
    arabic-speech-corpus/test set/{wav,lab}/, orthographic-transcript.txt, phonetic-transcript.txt

The transliteration follows the corpus, not plain Buckwalter: thaa' (ث) is written '^' (Buckwalter
'v'), pauses are ' - ', and there is no other punctuation. The test set has its own numbering
from 0001 and reads held-out sentences only.
"""
import re

from espnet_ext.synth.arabic import shadda_first
from espnet_ext.synth.arabic_phones import asc_phones
from espnet_ext.synth.corpus import CorpusPlan, PlannedUtterance
from espnet_ext.synth.layouts.common import resolve_common
from espnet_ext.synth.sentences import SentenceGenerator
from espnet_ext.synth.voices import draw_speakers
from espnet_ext.text.buckwalter import to_buckwalter

CORPUS_DIR = "arabic-speech-corpus"
TEST_DIR = "test set"
SAMPLE_RATE = 48000
LANGS = ("ar",)
THEH = "^"  # the corpus's symbol for ث (standard Buckwalter: 'v')
LAB_BOM = "\ufeff"
PHONETIC_FILE = {"train": "phonetic-transcipt.txt", "test": "phonetic-transcript.txt"}  # sic: the corpus's names


def wav_name(i: int) -> str:
    """0 -> 'ARA NORM  0001.wav'."""
    return f"ARA NORM  {i + 1:04d}.wav"


def asc_buckwalter(arabic: str) -> str:
    """Arabic script -> the corpus's transliteration: Buckwalter with '^' for ث, pauses as '-'."""
    text = shadda_first(arabic).replace("،", " - ")  # Buckwalter order: consonant, shadda, vowel
    text = re.sub(r"[.؟?!:؛]", " ", text)
    return " ".join(to_buckwalter(text).replace("v", THEH).split())


def lab_text(buckwalter: str) -> str:
    """The ``lab/*.lab`` text: the transcript with a BOM and 'TH' for ذ ('*'), as in the corpus."""
    return LAB_BOM + buckwalter.replace("*", "TH")


def resolve(opts):
    return resolve_common(opts, LANGS, default_speakers=1, fixed_speakers=1)


def plan(opts) -> CorpusPlan:
    gen = SentenceGenerator(opts.lang, opts.seed)
    (speaker,) = draw_speakers(opts.lang, "train", 1, f"arabic_speech_corpus/{opts.seed}", genders=["M"])
    subsets = {
        "train": (CORPUS_DIR, gen.sentences(opts.utts_per_speaker, "train", stream="asc")),
        "test": (f"{CORPUS_DIR}/{TEST_DIR}", gen.sentences(opts.utts_for("test"), "test", stream="asc")),
    }
    utterances, files = [], {}
    for subset, (top, sentences) in subsets.items():
        ortho, phonetic = [], []
        for i, sentence in enumerate(sentences):
            name = wav_name(i)
            bw = asc_buckwalter(sentence.text)
            utterances.append(PlannedUtterance(f"{top}/wav/{name}", sentence.text, speaker, SAMPLE_RATE))
            files[f"{top}/lab/{name[:-4]}.lab"] = lab_text(bw)
            ortho.append(f'"{name}" "{bw}"\n')
            phonetic.append(f'"{name}" "{asc_phones(bw)}"\n')
        files[f"{top}/orthographic-transcript.txt"] = "".join(ortho)
        files[f"{top}/{PHONETIC_FILE[subset]}"] = "".join(phonetic)
    n_train, n_test = (len(s) for _, s in subsets.values())
    return CorpusPlan(
        CORPUS_DIR, utterances, lambda durations: files,
        f"1 speaker ({speaker.voice}), {n_train} train + {n_test} test utterances",
    )
