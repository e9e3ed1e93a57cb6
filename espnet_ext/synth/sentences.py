"""Sentences for the synthesized corpora: English and Arabic grammars, split-aware.

Every sentence belongs to exactly one *role* — ``train``, ``dev`` or ``test`` — decided by a hash
of its normalised words (lowercase, no punctuation; Arabic without diacritics), not by the seed.
So the held-out sentences of any corpus never occur in the training part of any other corpus of
the same language, whatever seeds were used, as in real corpora where test books are not in
training. Within one ``SentenceGenerator`` no sentence is returned twice.
"""
import hashlib
import random
from dataclasses import dataclass
from typing import Callable, Optional

from espnet_ext.text.normalize import normalize

ROLES = ("train", "dev", "test")
# Of every HASH_BUCKETS sentences, one goes to test and one to dev (5% each).
HASH_BUCKETS = 20
_ROLE_OF_BUCKET = {0: "test", 1: "dev"}
MIN_WORDS = 3  # shorter sentences ("Archie cheered.") make poor utterances


@dataclass(frozen=True)
class Sentence:
    """``raw``: as a book prints it (digits, abbreviations); ``text``: as it is read aloud (numbers
    spelled out), with case and punctuation — what espeak-ng speaks. Arabic: both are the fully
    diacritised sentence in Arabic script."""

    raw: str
    text: str


def sentence_key(text: str, lang: str) -> str:
    """The words that identify a sentence: normalised, no punctuation (Arabic: no diacritics)."""
    return normalize(text, lang)


def role_of(text: str, lang: str) -> str:
    """'train', 'dev' or 'test': the pool a sentence belongs to (a hash of its key)."""
    digest = hashlib.sha1(sentence_key(text, lang).encode("utf-8")).digest()
    return _ROLE_OF_BUCKET.get(int.from_bytes(digest[:8], "big") % HASH_BUCKETS, "train")


def role_of_split(split: str) -> str:
    """'train-clean-100' -> 'train', 'dev-other' -> 'dev', 'test-clean' -> 'test'."""
    for role in ROLES:
        if split == role or split.startswith(role + "-") or split.startswith(role + "_"):
            return role
    raise ValueError(f"cannot tell whether split {split!r} is train, dev or test (name it train-*, dev-* or test-*)")


def _grammar(lang: str):
    if lang == "en":
        from espnet_ext.synth.english import EnglishGrammar

        return EnglishGrammar()
    if lang == "ar":
        from espnet_ext.synth.arabic import ArabicGrammar

        return ArabicGrammar()
    raise ValueError(f"no sentence grammar for language {lang!r} (known: en, ar)")


class SentenceGenerator:
    """Distinct sentences of one language, deterministic for ``seed`` and the order of calls.

    >>> gen = SentenceGenerator("en", seed=0)
    >>> train = gen.sentences(1000, role="train", stream="train-clean-100")
    >>> test = gen.sentences(100, role="test", stream="test-clean")
    """

    def __init__(self, lang: str = "en", seed: int = 0):
        self.lang = lang
        self.seed = seed
        self.grammar = _grammar(lang)
        self._used = set()

    def draw(self, rng: random.Random) -> Sentence:
        """One sentence from the grammar (any role, possibly seen before)."""
        out = self.grammar.sentence(rng)
        return Sentence(out, out) if isinstance(out, str) else Sentence(out.raw, out.text)

    def sentences(
        self,
        n: int,
        role: str = "train",
        stream: str = "",
        accept: Optional[Callable[[Sentence], bool]] = None,
        max_tries_per_sentence: int = 400,
    ) -> list:
        """``n`` sentences of ``role`` never returned before by this generator.

        ``stream`` names an independent random stream (e.g. the split and speaker), so adding a
        speaker does not change the sentences of the others; ``accept`` filters sentences (e.g.
        no double quotes in CMU Arctic prompts).
        """
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, not {role!r}")
        rng = random.Random(f"{self.lang}/{self.seed}/{role}/{stream}")
        out = []
        for _ in range(n * max_tries_per_sentence):
            if len(out) == n:
                break
            sentence = self.draw(rng)
            key = sentence_key(sentence.text, self.lang)
            if key in self._used or len(key.split()) < MIN_WORDS or role_of(sentence.text, self.lang) != role:
                continue
            if accept is not None and not accept(sentence):
                continue
            self._used.add(key)
            out.append(sentence)
        if len(out) < n:
            raise RuntimeError(f"the {self.lang} grammar gave only {len(out)} new {role} sentences of {n} asked")
        return out
