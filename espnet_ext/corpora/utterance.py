"""The record every corpus reader returns, and the errors they raise."""
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Utterance:
    """One recording with its transcript.

    ``category`` is the task the utterance serves in STTATTS recipes: ``asr``, ``tts`` or ``vc``.
    ``extra`` holds corpus-specific fields (e.g. the original, unnormalised LibriTTS text).
    """

    utt_id: str
    speaker: str
    audio: Path
    text: str
    category: str
    extra: dict = field(default_factory=dict, compare=False, hash=False)


class CorpusLayoutError(RuntimeError):
    """The corpus root is missing or does not have the layout the reader expects."""


def require_dir(path: Path, corpus: str, hint: str) -> Path:
    """Return ``path`` if it is a folder, else raise naming the corpus and what was expected."""
    if not path.is_dir():
        raise CorpusLayoutError(f"{corpus}: folder not found: {path} ({hint})")
    return path
