"""Arabic Speech Corpus: ``arabic-speech-corpus/{wav,lab}/`` and ``orthographic-transcript.txt``.

Transcript lines are ``"ARA NORM  0002.wav" "<Buckwalter text>"`` (two spaces in the names);
audio is 48 kHz; the test set sits in ``arabic-speech-corpus/test set/`` with the same files.
One speaker. Text is converted from Buckwalter to Arabic script. The real transcripts differ from
standard Buckwalter in two ways, handled here: ث is written ``^`` (not ``v``), and pauses are
marked by a lone ``-`` between words. A line with the wav name and no transcript keeps the
utterance with empty text (stage 2 drops it as "empty text").
"""
import re
from pathlib import Path
from typing import Optional

from espnet_ext.corpora.utterance import CorpusLayoutError, Utterance, read_lines, require_dir, skip_line
from espnet_ext.text.buckwalter import from_buckwalter

CORPUS_DIR = "arabic-speech-corpus"
TEST_DIR = "test set"
SPEAKER = "asc"
_LINE = re.compile(r'^"([^"]+)"(?:\s+"(.*)")?\s*$')


def read_orthographic(path: Path, skipped: Optional[list] = None) -> dict:
    """``orthographic-transcript.txt`` -> {wav file name: Buckwalter text}; unreadable lines: see ``skip_line``."""
    entries = {}
    for lineno, line in read_lines(path, skipped):
        match = _LINE.match(line)
        if not match:
            skip_line(skipped, path, lineno, f'expected \'"<name>.wav" "<text>"\', got {line!r}')
            continue
        entries[match.group(1)] = match.group(2) or ""
    return entries


def asc_to_arabic(asc_text: str) -> str:
    """ASC's Buckwalter variant -> Arabic script ('^' is tha; lone '-' pause marks dropped)."""
    words = [w for w in asc_text.replace("^", "v").split() if w != "-"]
    return from_buckwalter(" ".join(words))


def utt_id_of(wav_name: str, subset: str) -> str:
    """'ARA NORM  0002.wav' -> 'asc_train_ARA_NORM_0002' (no spaces: Kaldi ids are one token)."""
    stem = "_".join(Path(wav_name).stem.split())
    return f"{SPEAKER}_{subset}_{stem}"


def prepare_arabic_speech_corpus(
    root, subset: str = "train", category: str = "asr", skipped: Optional[list] = None
) -> list:
    """``subset`` is 'train' (top folder) or 'test' (``test set/``); ``root`` contains the corpus.

    Unreadable transcript lines go to ``skipped`` (``None``: the first one raises).
    """
    top = Path(root) / CORPUS_DIR
    if subset == "test":
        top = top / TEST_DIR
    elif subset != "train":
        raise ValueError(f"Arabic Speech Corpus subset must be 'train' or 'test', not {subset!r}")
    require_dir(top, "Arabic Speech Corpus", "expected arabic-speech-corpus/{wav,lab}/ and 'test set/'")
    transcript = top / "orthographic-transcript.txt"
    if not transcript.is_file():
        raise CorpusLayoutError(f"Arabic Speech Corpus: {transcript} not found")
    return [
        Utterance(utt_id_of(name, subset), SPEAKER, top / "wav" / name, asc_to_arabic(bw), category, {"buckwalter": bw})
        for name, bw in read_orthographic(transcript, skipped).items()
    ]
