"""Speakers = espeak-ng voices: a language voice, a variant (``en-us+m3``), a pitch and a speed.

A speaker's identity is fixed (one voice, one pitch, one speed). Variants are split in two fixed
sets: training speakers use ``TRAIN_VARIANTS``, held-out (dev/test) speakers ``HELDOUT_VARIANTS``,
so a test voice is a timbre the training data never had — the held-out voices of real corpora.
"""
import random
from dataclasses import dataclass

# Variant -> gender ('M'/'F'), from the espeak-ng variant files (voices/!v/). Variants that sound
# robotic, whispered or distorted (robosoft*, whisper, croak, Demonic, ...) are left out.
TRAIN_VARIANTS = {
    "m1": "M", "m2": "M", "m3": "M", "m5": "M", "m7": "M", "klatt": "M", "klatt2": "M", "Andy": "M",
    "adam": "M", "benjamin": "M", "david": "M", "edward": "M", "john": "M", "norbert": "M", "paul": "M",
    "robert": "M", "f1": "F", "f2": "F", "f3": "F", "f5": "F", "Annie": "F", "Andrea": "F", "belinda": "F",
    "linda": "F", "steph": "F", "anika": "F",
}
HELDOUT_VARIANTS = {
    "m4": "M", "m6": "M", "m8": "M", "klatt3": "M", "caleb": "M", "michel": "M", "travis": "M", "victor": "M",
    "f4": "F", "Alicia": "F", "aunty": "F", "steph2": "F", "steph3": "F",
}
# espeak-ng language voices (accents) a speaker can be built on.
BASE_VOICES = {
    "en": ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029", "en-us-nyc"),
    "ar": ("ar",),
}
PITCH_RANGE = (30, 70)  # espeak-ng -p (0-99, default 50)
SPEED_RANGE = {"en": (145, 185), "ar": (130, 165)}  # espeak-ng -s, words per minute


@dataclass(frozen=True)
class Speaker:
    """One synthetic speaker. ``voice`` is an espeak-ng ``-v`` value such as ``en-gb+f2``."""

    voice: str
    pitch: int
    speed: int
    gender: str  # 'M' or 'F'

    @property
    def espeak_args(self) -> list:
        return ["-v", self.voice, "-p", str(self.pitch), "-s", str(self.speed)]


def _variants(role: str) -> dict:
    return TRAIN_VARIANTS if role == "train" else HELDOUT_VARIANTS


def draw_speakers(lang: str, role: str, n: int, seed, genders=None, exclude=()) -> list:
    """``n`` distinct speakers for ``role`` ('train' or held-out 'dev'/'test').

    Genders alternate (starting from a seeded coin) unless ``genders`` (a sequence of 'M'/'F')
    is given. Deterministic in (lang, role, seed) (``seed``: an int or a string); ``exclude``
    holds speakers already taken (e.g. by another split), which are never repeated.
    """
    if lang not in BASE_VOICES:
        raise ValueError(f"no espeak-ng voices for language {lang!r} (known: {sorted(BASE_VOICES)})")
    rng = random.Random(f"voices/{lang}/{'train' if role == 'train' else 'heldout'}/{seed}")
    variants = _variants(role)
    by_gender = {g: sorted(v for v, vg in variants.items() if vg == g) for g in ("M", "F")}
    first = rng.choice(("M", "F"))
    other = "F" if first == "M" else "M"
    genders = list(genders) if genders is not None else [first if i % 2 == 0 else other for i in range(n)]
    taken = set(exclude)
    used_timbres = {s.voice for s in taken}
    out = []
    for gender in genders:
        for attempt in range(10_000):
            base = rng.choice(BASE_VOICES[lang])
            voice = f"{base}+{rng.choice(by_gender[gender])}"
            speaker = Speaker(voice, rng.randint(*PITCH_RANGE), rng.randint(*SPEED_RANGE[lang]), gender)
            # Prefer a new voice+variant; once they run out, pitch and speed tell speakers apart.
            if speaker in taken or (voice in used_timbres and attempt < 200):
                continue
            break
        taken.add(speaker)
        used_timbres.add(voice)
        out.append(speaker)
    return out
