"""LibriTTS: ``LibriTTS/<split>/<spk>/<chapter>/<spk>_<chapter>_<NNNNNN>_<NNNNNN>.wav`` (24 kHz).

Each wav has ``.normalized.txt`` (the text ESPnet's TTS recipes train on) and ``.original.txt``.
"""
from pathlib import Path

from espnet_ext.corpora.utterance import CorpusLayoutError, Utterance, require_dir

CORPUS_DIR = "LibriTTS"


def prepare_libritts(root, split: str, category: str = "tts") -> list:
    """Utterances of one split (e.g. ``train-clean-100``); ``root`` contains ``LibriTTS/``."""
    split_dir = require_dir(
        Path(root) / CORPUS_DIR / split, "LibriTTS", f"expected {CORPUS_DIR}/{split}/<spk>/<chapter>/"
    )
    utts = []
    for text_file in sorted(split_dir.glob("*/*/*.normalized.txt")):
        utt_id = text_file.name[: -len(".normalized.txt")]
        speaker = text_file.parent.parent.name
        text = text_file.read_text(encoding="utf-8").strip()
        original = text_file.with_name(f"{utt_id}.original.txt")
        extra = {"original": original.read_text(encoding="utf-8").strip()} if original.exists() else {}
        utts.append(Utterance(utt_id, speaker, text_file.with_name(f"{utt_id}.wav"), text, category, extra))
    if not utts:
        raise CorpusLayoutError(f"LibriTTS: no '*.normalized.txt' under {split_dir}/<spk>/<chapter>/")
    return utts
