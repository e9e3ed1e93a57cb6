"""Writing a synthesized corpus: plan (layout module) -> speak missing audio -> transcripts.

A layout module (``espnet_ext.synth.layouts.<name>``) turns ``CorpusOptions`` into a
``CorpusPlan``: every audio file with its text, speaker and sample rate, and a function that
writes the transcript files once the audio durations are known. This module runs the plan:

- idempotent: a file that exists is complete (audio and text are written to a temporary name and
  renamed), so a rerun with the same options only fills what is missing;
- safe: a state file ``<out>/.make_mini_corpus/<layout>.json`` remembers the plan's fingerprint;
  a rerun with other options into the same folder, or a corpus folder that this tool did not
  write (a real corpus), is refused instead of being mixed or overwritten.
"""
import hashlib
import json
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import soundfile as sf

from espnet_ext.synth.espeak import espeak_binary, synthesize
from espnet_ext.synth.voices import Speaker

log = logging.getLogger("make_mini_corpus")
STATE_DIR = ".make_mini_corpus"
FORMAT_VERSION = 2  # bump when a layout's output changes for the same options


@dataclass(frozen=True)
class CorpusOptions:
    """What to synthesize. ``None`` sizes take the layout's defaults (see ``resolved``)."""

    layout: str
    lang: Optional[str] = None
    num_speakers: Optional[int] = None
    utts_per_speaker: int = 20
    seed: int = 0
    splits: tuple = ()
    eval_num_speakers: Optional[int] = None
    eval_utts_per_speaker: Optional[int] = None

    def speakers_for(self, role: str) -> int:
        """Speakers in one split: ``num_speakers`` for train, ``eval_num_speakers`` for dev/test."""
        if role == "train":
            return self.num_speakers
        return self.eval_num_speakers if self.eval_num_speakers is not None else max(2, self.num_speakers // 4)

    def utts_for(self, role: str) -> int:
        """Utterances per speaker: ``utts_per_speaker`` for train, ``eval_utts_per_speaker`` otherwise."""
        if role == "train":
            return self.utts_per_speaker
        if self.eval_utts_per_speaker is not None:
            return self.eval_utts_per_speaker
        return max(2, self.utts_per_speaker // 4)


@dataclass(frozen=True)
class PlannedUtterance:
    path: str  # audio file relative to the output folder
    text: str  # what espeak-ng says
    speaker: Speaker
    sample_rate: int  # Hz


@dataclass
class CorpusPlan:
    top: str  # the corpus folder(s) under the output folder, e.g. "LibriSpeech"
    utterances: list
    # {audio path: duration in seconds} -> {text file path relative to the output: content}
    text_files: Callable[[dict], dict]
    description: str = ""
    tops: tuple = field(default=())  # several top folders (CMU Arctic: one per speaker)


class CorpusExistsError(RuntimeError):
    """The output folder holds a different corpus than the one asked for."""


def fingerprint(opts: CorpusOptions, plan: CorpusPlan) -> str:
    h = hashlib.sha1(f"v{FORMAT_VERSION}/{opts.layout}".encode())
    for u in plan.utterances:
        h.update(json.dumps([u.path, u.text, asdict(u.speaker), u.sample_rate], ensure_ascii=False).encode())
    return h.hexdigest()


def _partial(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial")


def write_audio(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    """16-bit PCM, FLAC for ``.flac`` and WAV otherwise; written under a temporary name then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _partial(path)
    sf.write(tmp, audio, sample_rate, format="FLAC" if path.suffix == ".flac" else "WAV", subtype="PCM_16")
    os.replace(tmp, path)


def write_text(path: Path, content: str) -> bool:
    """Write ``content`` (UTF-8, exact bytes) unless the file already holds it; True if written."""
    data = content.encode("utf-8")
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _partial(path)
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


def _check_state(out: Path, opts: CorpusOptions, plan: CorpusPlan, digest: str) -> Path:
    state = out / STATE_DIR / f"{opts.layout}.json"
    tops = plan.tops or (plan.top,)
    if state.is_file():
        old = json.loads(state.read_text())
        if old.get("fingerprint") != digest:
            raise CorpusExistsError(
                f"{out} already holds a {opts.layout} corpus made with other options ({old.get('options')}); "
                f"remove {', '.join(str(out / t) for t in tops)} and {state}, or choose another --out"
            )
    elif any((out / t).exists() for t in tops):
        raise CorpusExistsError(
            f"{out / tops[0]} exists but was not written by make_mini_corpus; refusing to write into it "
            "(choose another --out)"
        )
    return state


def make_corpus(opts: CorpusOptions, out, nj: int = 2, progress: bool = True) -> dict:
    """Synthesize the corpus described by ``opts`` under ``out``; returns a report (counts, hours, speed)."""
    from espnet_ext.synth.layouts import get_layout

    espeak_binary()  # fail early with the install hint
    layout = get_layout(opts.layout)
    opts = layout.resolve(opts)
    out = Path(out)
    plan = layout.plan(opts)
    digest = fingerprint(opts, plan)
    state = _check_state(out, opts, plan, digest)
    state.parent.mkdir(parents=True, exist_ok=True)
    write_text(state, json.dumps({"fingerprint": digest, "options": asdict(opts), "complete": False}, indent=1) + "\n")

    start = time.time()
    missing = [u for u in plan.utterances if not (out / u.path).is_file()]
    missing_paths = {u.path for u in missing}
    durations = {}
    for u in plan.utterances:
        if u.path not in missing_paths:
            info = sf.info(str(out / u.path))
            durations[u.path] = info.frames / info.samplerate

    def speak(u: PlannedUtterance) -> tuple:
        audio = synthesize(u.text, u.speaker, u.sample_rate)
        write_audio(out / u.path, audio, u.sample_rate)
        return u.path, len(audio) / u.sample_rate

    bar = None
    if progress and missing:
        from tqdm import tqdm

        bar = tqdm(total=len(missing), desc=f"{opts.layout}", unit="utt")
    # espeak-ng runs as a subprocess, so threads are enough to keep nj cores busy.
    with ThreadPoolExecutor(max_workers=max(1, nj)) as pool:
        for path, seconds in pool.map(speak, missing):
            durations[path] = seconds
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    synth_seconds = time.time() - start

    texts = plan.text_files(durations)
    written = sum(write_text(out / rel, content) for rel, content in texts.items())
    write_text(state, json.dumps({"fingerprint": digest, "options": asdict(opts), "complete": True}, indent=1) + "\n")

    report = {
        "layout": opts.layout,
        "out": str(out),
        "corpus": plan.description,
        "utterances": len(plan.utterances),
        "synthesized": len(missing),
        "already_present": len(plan.utterances) - len(missing),
        "text_files_written": written,
        "hours": sum(durations.values()) / 3600,
        "seconds": round(time.time() - start, 2),
        "utts_per_second": round(len(missing) / synth_seconds, 1) if missing and synth_seconds > 0 else None,
    }
    log.info(
        "make_mini_corpus: %s -> %s: %s; %d utterances (%.2f h), %d synthesized%s, %d already present, "
        "%d text files written",
        opts.layout, out / plan.top, plan.description, report["utterances"], report["hours"], report["synthesized"],
        f" at {report['utts_per_second']} utt/s" if report["utts_per_second"] else "", report["already_present"],
        written,
    )
    return report
