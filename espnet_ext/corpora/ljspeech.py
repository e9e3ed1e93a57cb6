"""LJSpeech: ``LJSpeech-1.1/wavs/LJ001-0001.wav`` (22.05 kHz) and ``metadata.csv``.

``metadata.csv`` lines are ``id|raw text|normalized text``, no quoting; one speaker.
"""
from pathlib import Path

from espnet_ext.corpora.utterance import CorpusLayoutError, Utterance, require_dir

CORPUS_DIR = "LJSpeech-1.1"
SPEAKER = "LJ"


def prepare_ljspeech(root, category: str = "tts") -> list:
    """All utterances with their normalized text; ``root`` contains ``LJSpeech-1.1/``."""
    top = require_dir(Path(root) / CORPUS_DIR, "LJSpeech", "expected LJSpeech-1.1/{wavs/,metadata.csv}")
    metadata = top / "metadata.csv"
    if not metadata.is_file():
        raise CorpusLayoutError(f"LJSpeech: {metadata} not found")
    utts = []
    for lineno, line in enumerate(metadata.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) != 3:
            raise CorpusLayoutError(f"{metadata}:{lineno}: expected 'id|raw|normalized', got {line!r}")
        utt_id, raw, normalized = fields
        utts.append(
            Utterance(utt_id, SPEAKER, top / "wavs" / f"{utt_id}.wav", normalized, category, {"original": raw})
        )
    return utts
