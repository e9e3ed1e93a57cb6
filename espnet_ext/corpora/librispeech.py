"""LibriSpeech: ``LibriSpeech/<split>/<spk>/<chapter>/<spk>-<chapter>-<NNNN>.flac``.

Each chapter folder has ``<spk>-<chapter>.trans.txt`` with lines ``<utt-id> UPPERCASE TEXT``.
"""
from pathlib import Path
from typing import Optional

from espnet_ext.corpora.utterance import CorpusLayoutError, Utterance, read_lines, require_dir, skip_line

CORPUS_DIR = "LibriSpeech"


def read_transcripts(trans_file: Path, skipped: Optional[list] = None) -> dict:
    """``<spk>-<chapter>.trans.txt`` -> {utt_id: text}.

    A line with an id and no text keeps the id with empty text (stage 2 drops it as "empty
    text"); a line without an id of this chapter is unreadable: see ``skip_line``.
    """
    prefix = trans_file.name[: -len(".trans.txt")] + "-"
    texts = {}
    for lineno, line in read_lines(trans_file, skipped):
        utt_id, *text = line.split(None, 1)
        if not utt_id.startswith(prefix):
            skip_line(skipped, trans_file, lineno, f"expected '<utt-id> <TEXT>' with an id {prefix}NNNN, got {line!r}")
            continue
        texts[utt_id] = text[0].strip() if text else ""
    return texts


def prepare_librispeech(root, split: str, category: str = "asr", skipped: Optional[list] = None) -> list:
    """Utterances of one split (e.g. ``train-clean-100``); ``root`` contains ``LibriSpeech/``.

    Unreadable transcript lines go to ``skipped`` (``None``: the first one raises).
    """
    split_dir = require_dir(
        Path(root) / CORPUS_DIR / split, "LibriSpeech", f"expected {CORPUS_DIR}/{split}/<spk>/<chapter>/"
    )
    trans_files = sorted(split_dir.glob("*/*/*.trans.txt"))
    if not trans_files:
        raise CorpusLayoutError(f"LibriSpeech: no '*.trans.txt' under {split_dir}/<spk>/<chapter>/")
    utts = []
    for trans_file in trans_files:
        speaker = trans_file.parent.parent.name
        for utt_id, text in read_transcripts(trans_file, skipped).items():
            audio = trans_file.parent / f"{utt_id}.flac"
            utts.append(Utterance(utt_id, speaker, audio, text, category))
    return utts


def read_speakers(root) -> dict:
    """``SPEAKERS.TXT`` -> {speaker_id: {"sex", "subset", "minutes", "name"}}; ';' lines are comments."""
    speakers = {}
    path = Path(root) / CORPUS_DIR / "SPEAKERS.TXT"
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith(";"):
            continue
        fields = [f.strip() for f in line.split("|", 4)]
        if len(fields) != 5:
            raise CorpusLayoutError(f"{path}: expected 5 '|'-separated fields in {line!r}")
        spk, sex, subset, minutes, name = fields
        speakers[spk] = {"sex": sex, "subset": subset, "minutes": float(minutes), "name": name}
    return speakers
