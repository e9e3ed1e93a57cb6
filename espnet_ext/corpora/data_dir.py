"""Kaldi-style data directories as ESPnet recipes use them.

Files: ``wav.scp``, ``text``, ``utt2spk``, ``spk2utt``, ``utt2category`` (asr / tts / vc), all
sorted by key. Utterance ids must start with their speaker id so that sorting by utterance and by
speaker agree (Kaldi's rule); ids and speakers must not contain whitespace.
"""
from collections import defaultdict
from pathlib import Path

from espnet_ext.corpora.utterance import Utterance

DATA_FILES = ("wav.scp", "text", "utt2spk", "spk2utt", "utt2category")


class DataDirError(ValueError):
    """Invalid utterance list for a data directory (names the utterance)."""


def check_utterances(utts: list, where: str = "") -> None:
    """Raise on duplicate ids, whitespace in ids, or ids not prefixed by their speaker."""
    seen = {}
    for u in utts:
        if u.utt_id in seen:
            raise DataDirError(
                f"{where}duplicate utterance id {u.utt_id!r}: {seen[u.utt_id].audio} and {u.audio}"
            )
        seen[u.utt_id] = u
        if any(ch.isspace() for ch in u.utt_id + u.speaker):
            raise DataDirError(f"{where}whitespace in utterance id or speaker: {u.utt_id!r} / {u.speaker!r}")
        if not u.utt_id.startswith(u.speaker):
            raise DataDirError(f"{where}utterance id {u.utt_id!r} does not start with its speaker {u.speaker!r}")


def write_text_atomic(path, text: str) -> None:
    """Write ``text`` (UTF-8) through ``<path>.tmp`` and a rename: readers never see a half-written file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _write_lines(path: Path, lines) -> None:
    write_text_atomic(path, "".join(f"{line}\n" for line in lines))


def write_data_dir(out_dir, utts: list, extra_scp: dict = None) -> Path:
    """Write the five files of a data dir; ``extra_scp`` maps file name -> {utt_id: value}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    check_utterances(utts, where=f"{out}: ")
    utts = sorted(utts, key=lambda u: u.utt_id)
    spk2utt = defaultdict(list)
    for u in utts:
        spk2utt[u.speaker].append(u.utt_id)
    _write_lines(out / "wav.scp", (f"{u.utt_id} {u.audio}" for u in utts))
    _write_lines(out / "text", (f"{u.utt_id} {u.text}" for u in utts))
    _write_lines(out / "utt2spk", (f"{u.utt_id} {u.speaker}" for u in utts))
    _write_lines(out / "spk2utt", (f"{s} {' '.join(ids)}" for s, ids in sorted(spk2utt.items())))
    _write_lines(out / "utt2category", (f"{u.utt_id} {u.category}" for u in utts))
    for name, mapping in (extra_scp or {}).items():
        _write_lines(out / name, (f"{k} {mapping[k]}" for k in sorted(mapping)))
    return out


def read_kv(path) -> dict:
    """A two-column Kaldi file -> {key: rest of line} (the value may contain spaces)."""
    table = {}
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        key, _, value = line.partition(" ")
        if key in table:
            raise DataDirError(f"{path}:{lineno}: duplicate key {key!r}")
        table[key] = value
    return table


def read_data_dir(data_dir) -> list:
    """Read a data dir written by ``write_data_dir`` back into utterances."""
    d = Path(data_dir)
    wav, text, spk = read_kv(d / "wav.scp"), read_kv(d / "text"), read_kv(d / "utt2spk")
    cat_file = d / "utt2category"
    category = read_kv(cat_file) if cat_file.exists() else {}
    return [Utterance(k, spk[k], Path(wav[k]), text.get(k, ""), category.get(k, "")) for k in wav]
