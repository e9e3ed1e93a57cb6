"""One writer per corpus layout. Each module exposes ``LANGS`` (languages it accepts),
``resolve(opts) -> opts`` (fills layout defaults, validates) and ``plan(opts) -> CorpusPlan``."""
import importlib

LAYOUTS = ("librispeech", "libritts", "ljspeech", "cmu_arctic", "arabic_speech_corpus")


def get_layout(name: str):
    if name not in LAYOUTS:
        raise ValueError(f"unknown layout {name!r} (known: {', '.join(LAYOUTS)})")
    return importlib.import_module(f"espnet_ext.synth.layouts.{name}")
