"""LibriTTS: ``LibriTTS/<split>/<spk>/<chapter>/<spk>_<chapter>_<NNNNNN>_<NNNNNN>.wav`` (24 kHz).

Each wav has ``.normalized.txt`` (the text ESPnet's TTS recipes train on) and ``.original.txt``.
An empty ``.normalized.txt`` gives an utterance with empty text (stage 2 drops it as "empty text").
"""
from pathlib import Path
from typing import Optional

from espnet_ext.corpora.utterance import CorpusLayoutError, Utterance, read_lines, require_dir

CORPUS_DIR = "LibriTTS"


def read_normalized(text_file: Path, skipped: Optional[list]) -> Optional[str]:
    """The text of a ``.normalized.txt``; ``None`` when a line of it is unreadable (see ``skip_line``)."""
    num_skipped = len(skipped) if skipped is not None else 0
    text = " ".join(line.strip() for _, line in read_lines(text_file, skipped))
    return None if skipped is not None and len(skipped) > num_skipped else text


def prepare_libritts(root, split: str, category: str = "tts", skipped: Optional[list] = None) -> list:
    """Utterances of one split (e.g. ``train-clean-100``); ``root`` contains ``LibriTTS/``.

    Unreadable text files go to ``skipped`` (``None``: the first one raises).
    """
    split_dir = require_dir(
        Path(root) / CORPUS_DIR / split, "LibriTTS", f"expected {CORPUS_DIR}/{split}/<spk>/<chapter>/"
    )
    text_files = sorted(split_dir.glob("*/*/*.normalized.txt"))
    if not text_files:
        raise CorpusLayoutError(f"LibriTTS: no '*.normalized.txt' under {split_dir}/<spk>/<chapter>/")
    utts = []
    for text_file in text_files:
        utt_id = text_file.name[: -len(".normalized.txt")]
        speaker = text_file.parent.parent.name
        text = read_normalized(text_file, skipped)
        if text is None:
            continue
        original = text_file.with_name(f"{utt_id}.original.txt")
        # Kept for reference only (nothing trains on it): a bad byte there costs no utterance.
        extra = {"original": original.read_bytes().decode("utf-8", "replace").strip()} if original.exists() else {}
        utts.append(Utterance(utt_id, speaker, text_file.with_name(f"{utt_id}.wav"), text, category, extra))
    return utts
