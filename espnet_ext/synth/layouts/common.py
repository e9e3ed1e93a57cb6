"""Pieces the layout writers share: option checks, speaker names, LibriVox-style readers."""
import dataclasses
import random
from dataclasses import dataclass

from espnet_ext.synth.sentences import SentenceGenerator, role_of_split
from espnet_ext.synth.voices import Speaker, draw_speakers


LANGUAGE_NAMES = {"en": "English", "ar": "Arabic"}


def resolve_common(opts, langs: tuple, default_speakers: int, fixed_speakers: int = None):
    """Fill the language and speaker count; check them against what the corpus allows."""
    lang = opts.lang or langs[0]
    if lang not in langs:
        names = "/".join(LANGUAGE_NAMES[x] for x in langs)
        raise ValueError(f"{opts.layout} is an {names} corpus: --lang {lang} is not supported")
    n = opts.num_speakers if opts.num_speakers is not None else default_speakers
    if fixed_speakers is not None and n != fixed_speakers:
        raise ValueError(f"{opts.layout} has exactly {fixed_speakers} speaker(s); got --num_speakers {n}")
    if n < 1 or opts.utts_per_speaker < 1:
        raise ValueError("--num_speakers and --utts_per_speaker must be at least 1")
    return dataclasses.replace(opts, lang=lang, num_speakers=n)


def english_names(genders: list, seed) -> list:
    """Distinct 'First Last' names, one per gender in ``genders`` ('M'/'F')."""
    from espnet_ext.synth.lexicon import read_sections

    first = read_sections("en", "first_names")
    last = read_sections("en", "surnames")[""]
    rng = random.Random(f"names/{seed}")
    out, seen = [], set()
    for g in genders:
        while True:
            name = f"{rng.choice(first['male' if g == 'M' else 'female'])} {rng.choice(last)}"
            if name not in seen:
                seen.add(name)
                out.append(name)
                break
    return out


@dataclass(frozen=True)
class Reader:
    """A LibriVox reader of a LibriSpeech/LibriTTS-style corpus: one speaker in one split,
    reading one or two chapters (each a list of sentences)."""

    reader_id: int
    split: str
    speaker: Speaker
    name: str
    chapters: tuple  # ((chapter_id, (Sentence, ...)), ...)


# Reader and chapter ids come from one disjoint range per role, drawn from a stream of their own,
# so a held-out split (its ids, voices and sentences) depends only on the layout, the seed and the
# held-out sizes: a bigger training part keeps the same test set.
READER_ID_RANGES = {"train": (19, 6000), "dev": (6000, 7500), "test": (7500, 9000)}
CHAPTER_ID_RANGES = {"train": (1000, 200000), "dev": (200000, 250000), "test": (250000, 300000)}


def _ids_by_split(opts, splits, roles, counts, ranges: dict, per_reader: int, what: str) -> dict:
    """``{split: [id, ...]}``: ``per_reader * count`` distinct ids per split, every role from its own
    range and stream (splits of one role in the order given)."""
    out = {}
    for role in dict.fromkeys(roles):
        mine = [(s, c) for s, r, c in zip(splits, roles, counts) if r == role]
        rng = random.Random(f"librivox/{opts.layout}/{opts.seed}/{what}/{role}")
        low, high = ranges[role]
        drawn = rng.sample(range(low, high), per_reader * sum(c for _, c in mine))
        for split, count in mine:
            out[split], drawn = drawn[: per_reader * count], drawn[per_reader * count:]
    return out


def librivox_readers(opts, default_splits: tuple) -> list:
    """Readers for every split: training splits get training voices, dev/test splits held-out
    voices and held-out sentences; speaker and chapter ids are distinct numbers, as in LibriVox.
    A held-out split is the same whatever the training sizes are."""
    splits = tuple(opts.splits) or default_splits
    if len(set(splits)) != len(splits):
        raise ValueError(f"--splits repeats a split: {splits}")
    gen = SentenceGenerator(opts.lang, opts.seed)
    # The layout name enters every seed: a LibriSpeech and a LibriTTS corpus made with the same
    # seed have different readers and sentences (more variety for joint ASR + TTS training).
    roles = [role_of_split(s) for s in splits]
    counts = [opts.speakers_for(r) for r in roles]
    reader_ids = _ids_by_split(opts, splits, roles, counts, READER_ID_RANGES, 1, "readers")
    chapter_ids = _ids_by_split(opts, splits, roles, counts, CHAPTER_ID_RANGES, 2, "chapters")
    taken, readers = [], []
    for split, role, count in zip(splits, roles, counts):
        speakers = draw_speakers(opts.lang, role, count, f"{opts.layout}/{opts.seed}", exclude=taken)
        taken.extend(speakers)
        names = english_names([s.gender for s in speakers], f"{opts.layout}/{opts.seed}/{split}")
        for k, (speaker, name) in enumerate(zip(speakers, names)):
            reader_id = reader_ids[split][k]
            n = opts.utts_for(role)
            sentences = gen.sentences(n, role=role, stream=f"{opts.layout}/{split}/{reader_id}")
            n_chapters = 2 if n >= 20 else 1  # LibriSpeech readers often read from two chapters
            cut = (n + 1) // 2 if n_chapters == 2 else n
            parts = (sentences[:cut], sentences[cut:])[:n_chapters]
            chapters = tuple((chapter_ids[split][2 * k + i], tuple(p)) for i, p in enumerate(parts))
            readers.append(Reader(reader_id, split, speaker, name, chapters))
    return readers


def speakers_txt(rows: list) -> str:
    """LibriSpeech's SPEAKERS.TXT: ';' comment header, then ``ID |SEX| SUBSET |MINUTES| NAME``.

    ``rows``: (reader_id, sex, subset, minutes, name), written sorted by id.
    """
    rows = sorted(rows)
    header = (
        "; The meaning of the fields in left-to-right order is as follows:\n"
        ";\n"
        "; reader_id: the ID of the reader in the LibriVox's database\n"
        "; gender: 'F' for female, 'M' for male\n"
        "; subset: the corpus subset to which the reader's audio is assigned\n"
        "; duration: total number of minutes of speech by the reader, included in the corpus\n"
        "; name: the name under which the reader is registered in LibriVox\n"
        ";\n"
        ";ID  |SEX| SUBSET           |MINUTES| NAME\n"
    )
    lines = [f"{rid:<5}| {sex} | {subset:<17}| {minutes:5.2f} | {name}\n" for rid, sex, subset, minutes, name in rows]
    return header + "".join(lines)
