"""The record every corpus reader returns, the errors they raise, and how they skip bad lines."""
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

# Largest share of a split's transcript lines that may be unreadable before stage 1 fails.
MAX_BAD_FRACTION = 0.01


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


@dataclass(frozen=True)
class UnreadableLine:
    """A transcript line a reader could not parse (no id, wrong field count, not UTF-8)."""

    path: Path
    lineno: int  # 1-based
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.lineno}: {self.reason}"


def skip_line(skipped: Optional[list], path: Path, lineno: int, reason: str) -> None:
    """Record an unreadable line in ``skipped`` with a warning; without a list (``None``), raise."""
    bad = UnreadableLine(Path(path), lineno, reason)
    if skipped is None:
        raise CorpusLayoutError(str(bad))
    logging.warning("%s: line skipped", bad)
    skipped.append(bad)


def read_lines(path: Path, skipped: Optional[list]) -> Iterator:
    """(line number, text) of the non-blank lines of a UTF-8 file, decoded line by line so that
    one line in another encoding is skipped (see ``skip_line``) and the others are still read."""
    for lineno, raw in enumerate(Path(path).read_bytes().splitlines(), 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            skip_line(skipped, path, lineno, f"not UTF-8 ({err.reason} at byte {err.start}): {raw[:60]!r}")
            continue
        if line.strip():
            yield lineno, line


def check_bad_fraction(where: str, num_read: int, skipped: list, max_bad_fraction: float = MAX_BAD_FRACTION) -> None:
    """Raise when more than ``max_bad_fraction`` of a split's lines (``num_read`` read + the
    skipped ones) are unreadable, naming the files; otherwise log how many were skipped."""
    if not skipped:
        return
    total = num_read + len(skipped)
    per_file = Counter(str(bad.path) for bad in skipped)
    files = ", ".join(f"{name} ({n} line{'s' if n > 1 else ''})" for name, n in sorted(per_file.items()))
    summary = f"{where}: {len(skipped)} of {total} transcript lines unreadable ({100 * len(skipped) / total:.1f} %)"
    if len(skipped) > max_bad_fraction * total:
        raise CorpusLayoutError(f"{summary}, more than --max_bad_fraction {max_bad_fraction}: {files}")
    logging.warning("%s, skipped (within --max_bad_fraction %s): %s", summary, max_bad_fraction, files)
