"""LibriSpeech: ``LibriSpeech/<split>/<spk>/<chapter>/<spk>-<chapter>-<NNNN>.flac``.

Each chapter folder has ``<spk>-<chapter>.trans.txt`` with lines ``<utt-id> UPPERCASE TEXT``.
"""
from pathlib import Path

from espnet_ext.corpora.utterance import CorpusLayoutError, Utterance, require_dir

CORPUS_DIR = "LibriSpeech"


def read_transcripts(trans_file: Path) -> dict:
    """``<spk>-<chapter>.trans.txt`` -> {utt_id: text}."""
    texts = {}
    for lineno, line in enumerate(trans_file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(" ", 1)
        if len(parts) != 2:
            raise CorpusLayoutError(f"{trans_file}:{lineno}: expected '<utt-id> <TEXT>', got {line!r}")
        texts[parts[0]] = parts[1].strip()
    return texts


def prepare_librispeech(root, split: str, category: str = "asr") -> list:
    """Utterances of one split (e.g. ``train-clean-100``); ``root`` contains ``LibriSpeech/``."""
    split_dir = require_dir(
        Path(root) / CORPUS_DIR / split, "LibriSpeech", f"expected {CORPUS_DIR}/{split}/<spk>/<chapter>/"
    )
    utts = []
    for trans_file in sorted(split_dir.glob("*/*/*.trans.txt")):
        speaker = trans_file.parent.parent.name
        for utt_id, text in read_transcripts(trans_file).items():
            audio = trans_file.parent / f"{utt_id}.flac"
            utts.append(Utterance(utt_id, speaker, audio, text, category))
    if not utts:
        raise CorpusLayoutError(f"LibriSpeech: no '*.trans.txt' under {split_dir}/<spk>/<chapter>/")
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
