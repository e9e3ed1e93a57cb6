"""CMU Arctic: ``cmu_us_<spk>_arctic/wav/arctic_a0001.wav`` and ``etc/txt.done.data``.

``txt.done.data`` lines are ``( arctic_a0001 "Text here." )``; a line without the text
(``( arctic_a0001 )``) keeps the prompt with empty text. Every speaker reads the same
sentences, which makes the corpus parallel: the voice-conversion pairs come from it.
"""
import re
from itertools import permutations
from pathlib import Path
from typing import Optional

from espnet_ext.corpora.utterance import CorpusLayoutError, Utterance, read_lines, require_dir, skip_line

_PROMPT = re.compile(r'^\(\s*([^\s"()]+)(?:\s+"(.*)")?\s*\)\s*$')


def speaker_dir(root, speaker: str) -> Path:
    return Path(root) / f"cmu_us_{speaker}_arctic"


def list_speakers(root) -> list:
    """Speaker names found under ``root`` (``cmu_us_<spk>_arctic`` folders)."""
    return sorted(p.name[len("cmu_us_") : -len("_arctic")] for p in Path(root).glob("cmu_us_*_arctic") if p.is_dir())


def read_prompts(path: Path, skipped: Optional[list] = None) -> dict:
    """``etc/txt.done.data`` -> {prompt_id: text}; unreadable lines: see ``skip_line``."""
    prompts = {}
    for lineno, line in read_lines(path, skipped):
        match = _PROMPT.match(line)
        if not match:
            skip_line(skipped, path, lineno, f'expected \'( arctic_a0001 "text" )\', got {line!r}')
            continue
        prompts[match.group(1)] = (match.group(2) or "").strip()
    return prompts


def prepare_cmu_arctic(root, speaker: str, category: str = "vc", skipped: Optional[list] = None) -> list:
    """One speaker's utterances; utterance ids are ``<spk>_<prompt_id>``.

    Unreadable prompt lines go to ``skipped`` (``None``: the first one raises).
    """
    top = require_dir(speaker_dir(root, speaker), "CMU Arctic", "expected cmu_us_<spk>_arctic/{wav,etc}/")
    prompt_file = top / "etc" / "txt.done.data"
    if not prompt_file.is_file():
        raise CorpusLayoutError(f"CMU Arctic: {prompt_file} not found (expected cmu_us_<spk>_arctic/etc/txt.done.data)")
    prompts = read_prompts(prompt_file, skipped)
    return [
        Utterance(f"{speaker}_{pid}", speaker, top / "wav" / f"{pid}.wav", text, category, {"prompt_id": pid})
        for pid, text in prompts.items()
    ]


def make_vc_pairs(utts_by_speaker: dict, sources=None, targets=None) -> list:
    """(source, target) utterance pairs reading the same prompt, for every ordered speaker pair.

    ``sources`` / ``targets`` restrict the speakers (default: all, every ordered pair of two
    different speakers).
    """
    sources = sources or sorted(utts_by_speaker)
    targets = targets or sorted(utts_by_speaker)
    pairs = []
    for src, tgt in permutations(sorted(set(sources) | set(targets)), 2):
        if src not in sources or tgt not in targets:
            continue
        tgt_by_prompt = {u.extra["prompt_id"]: u for u in utts_by_speaker[tgt]}
        for u in utts_by_speaker[src]:
            if u.extra["prompt_id"] in tgt_by_prompt:
                pairs.append((u, tgt_by_prompt[u.extra["prompt_id"]]))
    return pairs
