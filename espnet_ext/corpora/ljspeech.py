"""LJSpeech: ``LJSpeech-1.1/wavs/LJ001-0001.wav`` (22.05 kHz) and ``metadata.csv``.

``metadata.csv`` lines are ``id|raw text|normalized text``, no quoting; one speaker. A row with an
id and empty text fields keeps the utterance with empty text (stage 2 drops it as "empty text").
"""
from pathlib import Path
from typing import Optional

from espnet_ext.corpora.utterance import CorpusLayoutError, Utterance, read_lines, require_dir, skip_line

CORPUS_DIR = "LJSpeech-1.1"
SPEAKER = "LJ"


def prepare_ljspeech(root, category: str = "tts", skipped: Optional[list] = None) -> list:
    """All utterances with their normalized text; ``root`` contains ``LJSpeech-1.1/``.

    Unreadable rows go to ``skipped`` (``None``: the first one raises).
    """
    top = require_dir(Path(root) / CORPUS_DIR, "LJSpeech", "expected LJSpeech-1.1/{wavs/,metadata.csv}")
    metadata = top / "metadata.csv"
    if not metadata.is_file():
        raise CorpusLayoutError(f"LJSpeech: {metadata} not found")
    utts = []
    for lineno, line in read_lines(metadata, skipped):
        fields = [f.strip() for f in line.split("|")]
        if len(fields) != 3 or not fields[0].startswith(SPEAKER) or len(fields[0].split()) != 1:
            skip_line(skipped, metadata, lineno, f"expected '{SPEAKER}NNN-NNNN|raw|normalized', got {line!r}")
            continue
        utt_id, raw, normalized = fields
        utts.append(
            Utterance(utt_id, SPEAKER, top / "wavs" / f"{utt_id}.wav", normalized, category, {"original": raw})
        )
    return utts
