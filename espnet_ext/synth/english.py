"""An English sentence grammar over the word lists in ``wordlists/en/``.

Every phrase is built twice at once: ``raw`` is how a book prints it ("Mr. Gray paid $5 on the
3rd of May") and ``text`` is how it is read aloud and how LibriTTS / LJSpeech normalise it
("Mister Gray paid five dollars on the third of May"). espeak-ng speaks ``text``.
"""
import random
from dataclasses import dataclass
from functools import cached_property

from espnet_ext.synth import numbers
from espnet_ext.synth.lexicon import read_sections


@dataclass(frozen=True)
class Words:
    """A phrase in its printed (``raw``) and spoken (``text``) forms."""

    raw: str
    text: str

    def __add__(self, other: "Words") -> "Words":
        if not other.raw:
            return self
        if not self.raw:
            return other
        return Words(f"{self.raw} {other.raw}", f"{self.text} {other.text}")

    def glue(self, suffix: str) -> "Words":
        """Append punctuation (or "'s") without a space."""
        return Words(self.raw + suffix, self.text + suffix)


def w(text: str) -> Words:
    return Words(text, text)


EMPTY = Words("", "")


def join(*parts: Words) -> Words:
    out = EMPTY
    for part in parts:
        out = out + part
    return out


# Abbreviations a book prints and a reader expands (LibriTTS / LJSpeech normalised forms).
TITLES = {"Mr.": "Mister", "Mrs.": "Missus", "Dr.": "Doctor", "Capt.": "Captain", "Prof.": "Professor"}
_AN_EXCEPTIONS = ("uni", "use", "usu", "uti", "eu", "one", "once")
_AN_SILENT_H = ("hour", "honest", "honour", "heir")


def article(word: str) -> str:
    """'a' or 'an' for the word that follows."""
    low = word.lower()
    if low.startswith(_AN_SILENT_H):
        return "an"
    if low[0] in "aeiou" and not low.startswith(_AN_EXCEPTIONS):
        return "an"
    return "a"


def capitalize(s: str) -> str:
    for i, ch in enumerate(s):
        if ch.isalpha():
            return s[:i] + ch.upper() + s[i + 1 :]
    return s


# --- morphology -----------------------------------------------------------------------------


def plural(noun: str) -> str:
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in tuple("aeiou"):
        return noun[:-1] + "ies"
    return noun + "s"


def third_person(verb: str) -> str:
    if verb.endswith(("s", "x", "z", "ch", "sh", "o")):
        return verb + "es"
    if verb.endswith("y") and verb[-2:-1] not in tuple("aeiou"):
        return verb[:-1] + "ies"
    return verb + "s"


def regular_past(verb: str) -> str:
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y") and verb[-2:-1] not in tuple("aeiou"):
        return verb[:-1] + "ied"
    return verb + "ed"


def present_participle(verb: str, past: str) -> str:
    if past == verb + verb[-1] + "ed":  # stop/stopped -> stopping
        return verb + verb[-1] + "ing"
    if verb.endswith("ie"):
        return verb[:-2] + "ying"
    if verb.endswith("e") and not verb.endswith(("ee", "ye", "oe")):
        return verb[:-1] + "ing"
    return verb + "ing"


@dataclass(frozen=True)
class Noun:
    singular: str
    plural: str  # "" for uncountable nouns
    cls: str


@dataclass(frozen=True)
class Verb:
    base: str
    third: str
    past: str
    participle: str
    ing: str


def parse_noun(entry: str, cls: str) -> Noun:
    sg, _, pl = entry.partition("/")
    return Noun(sg, "" if pl == "-" else (pl or plural(sg)), cls)


def parse_verb(entry: str) -> Verb:
    forms = entry.split("/")
    base = forms[0]
    past = forms[1] if len(forms) > 1 else regular_past(base)
    participle = forms[2] if len(forms) > 2 else past
    return Verb(base, third_person(base), past, participle, present_participle(base, past))


class EnglishLexicon:
    """The word lists, parsed. ``verbs`` maps an object frame ('thing', 'food', 'person animal',
    'place', 'abstract', or '' for intransitive) to its verbs."""

    def __init__(self):
        self.nouns = {
            cls: tuple(parse_noun(e, cls) for e in entries) for cls, entries in read_sections("en", "nouns").items()
        }
        self.verbs = {}
        for section, entries in read_sections("en", "verbs").items():
            frame = section.split(":", 1)[1].strip() if ":" in section else ""
            self.verbs[frame] = tuple(parse_verb(e) for e in entries)
        self.adjectives = read_sections("en", "adjectives")
        self.adverbs = read_sections("en", "adverbs")
        self.first_names = read_sections("en", "first_names")
        self.surnames = read_sections("en", "surnames")[""]
        self.places = read_sections("en", "places")
        self.times = read_sections("en", "time_phrases", per_line=True)
        self.days = self.times["day"][0].split()
        self.months = self.times["month"][0].split()

    @cached_property
    def vocabulary(self) -> frozenset:
        """Every word form the grammar can emit from the lists (lowercase)."""
        forms = set()
        for nouns in self.nouns.values():
            for n in nouns:
                forms.update(x for x in (n.singular, n.plural) if x)
        for verbs in self.verbs.values():
            for v in verbs:
                forms.update((v.base, v.third, v.past, v.participle, v.ing))
        for table in (self.adjectives, self.adverbs, self.first_names, self.places):
            for entries in table.values():
                forms.update(entries)
        forms.update(self.surnames)
        for phrase in self.times["phrase"]:
            forms.update(phrase.split())
        forms.update(self.days + self.months)
        return frozenset(word.lower() for form in forms for word in form.split())


# Frames a subject of each kind can take; person and animal subjects do most things.
_PREPOSITIONS = ("in", "near", "behind", "beside", "outside", "inside", "across", "towards", "by", "at", "past")
_CONJUNCTIONS = ("and", "but", "so", "yet")
_SUBORDINATORS = ("When", "After", "Before", "Although", "Because", "While", "As soon as", "Whenever")
_MODALS = ("could", "would", "should", "might", "must", "will", "can", "may")
_CONTRACTED = {"will": "won't", "can": "can't", "may": "may not", "might": "might not"}


def _negate(aux: str, contract: bool) -> str:
    """'did' -> "didn't" (contracted) or 'did not'; 'will' -> "won't"."""
    if not contract:
        return "cannot" if aux == "can" else f"{aux} not"
    return _CONTRACTED.get(aux, aux + "n't")
_SAY = ("said", "replied", "whispered", "shouted", "answered", "cried", "asked", "added", "explained", "murmured")
_THINK = ("think", "believe", "know", "suppose", "hope", "fear", "feel", "suspect", "am sure", "doubt")


@dataclass(frozen=True)
class Subject:
    words: Words
    person: int  # 1, 2 or 3
    plural: bool
    animate: bool = True

    @property
    def third_singular(self) -> bool:
        return self.person == 3 and not self.plural


class EnglishGrammar:
    """``sentence(rng)`` draws one sentence; every choice comes from ``rng`` (deterministic)."""

    def __init__(self, lexicon: EnglishLexicon = None):
        self.lex = lexicon or EnglishLexicon()
        self.templates = (
            (self.t_statement, 6),
            (self.t_time_statement, 3),
            (self.t_compound, 3),
            (self.t_subordinate, 3),
            (self.t_quote, 3),
            (self.t_question, 3),
            (self.t_there_was, 2),
            (self.t_description, 2),
            (self.t_first_person, 3),
            (self.t_numbers, 3),
            (self.t_relative, 2),
            (self.t_imperative, 1),
            (self.t_exclamation, 1),
            (self.t_list, 1),
        )
        self._weights = [weight for _, weight in self.templates]

    def sentence(self, rng: random.Random) -> Words:
        (template,) = rng.choices([t for t, _ in self.templates], weights=self._weights)
        return template(rng)

    # --- words ------------------------------------------------------------------------------

    def noun(self, rng, cls: str) -> Noun:
        return rng.choice(self.lex.nouns[cls])

    def adjective(self, rng, cls: str) -> str:
        pool = self.lex.adjectives["general"] if rng.random() < 0.5 else self.lex.adjectives.get(cls, ())
        return rng.choice(pool or self.lex.adjectives["general"])

    def name(self, rng, gender: str = None) -> Words:
        gender = gender or rng.choice(("male", "female"))
        first = rng.choice(self.lex.first_names[gender])
        r = rng.random()
        if r < 0.55:
            return w(first)
        surname = rng.choice(self.lex.surnames)
        if r < 0.75:
            return w(f"{first} {surname}")
        titles = ("Mr.", "Dr.", "Capt.", "Prof.") if gender == "male" else ("Mrs.", "Dr.", "Prof.")
        title = rng.choice(titles)
        return Words(f"{title} {surname}", f"{TITLES[title]} {surname}")

    def place_name(self, rng, motion: bool = False) -> Words:
        """'in Paris', 'along the Thames'; 'to'/'from' only after verbs of motion (``motion``)."""
        kind = rng.choice(("city", "city", "country", "region", "river", "mountain"))
        name = rng.choice(self.lex.places[kind])
        prep = {"river": rng.choice(("along", "beside", "across", "near")), "mountain": rng.choice(("in", "across"))}
        default = rng.choice(("in", "in", "near", "to", "from") if motion else ("in", "in", "near", "outside"))
        return w(f"{prep.get(kind, default)} {name}")

    def time(self, rng) -> Words:
        r = rng.random()
        if r < 0.6:
            return w(rng.choice(self.lex.times["phrase"]))
        if r < 0.72:
            return w(f"on {rng.choice(self.lex.days)}")
        if r < 0.84:
            day, month = rng.randint(1, 28), rng.choice(self.lex.months)
            if rng.random() < 0.5:
                return Words(
                    f"on the {numbers.ordinal_suffix(day)} of {month}", f"on the {numbers.ordinal(day)} of {month}"
                )
            return Words(f"on {month} {day}", f"on {month} {numbers.ordinal(day)}")
        if r < 0.93:
            y = rng.randint(1500, 2030)
            return Words(f"in {y}", f"in {numbers.year(y)}")
        hour, minute = rng.randint(1, 12), rng.choice((0, 0, 5, 10, 15, 20, 30, 40, 45))
        if minute == 0 and rng.random() < 0.5:
            return Words(f"at {hour} o'clock", f"at {numbers.clock(hour, 0)}")
        return Words(f"at {hour}:{minute:02d}", f"at {numbers.clock(hour, minute)}")

    def count(self, rng, n: int) -> Words:
        """A number as a book prints it: small numbers in words, larger ones often in digits."""
        if n > 10 and rng.random() < 0.6:
            return Words(f"{n:,}" if n >= 10000 else str(n), numbers.cardinal(n))
        return w(numbers.cardinal(n))

    # --- phrases ----------------------------------------------------------------------------

    def np(self, rng, cls: str, plural: bool = None, definite: bool = None) -> Words:
        """A noun phrase of class ``cls``: determiner, up to two adjectives, noun."""
        noun = self.noun(rng, cls)
        if plural is None:
            plural = bool(noun.plural) and rng.random() < 0.3
        plural = plural and bool(noun.plural)
        head = noun.plural if plural else noun.singular
        mods = []
        r = rng.random()
        if r < 0.45:
            adj = self.adjective(rng, cls)
            if rng.random() < 0.2:
                adj = f"{rng.choice(self.lex.adverbs['degree'])} {adj}"
            mods.append(adj)
            if rng.random() < 0.15:
                second = self.adjective(rng, cls)
                if second not in adj:
                    mods.append(second)
        phrase = " ".join(mods + [head])
        if definite is None:
            definite = rng.random() < 0.6
        if definite:
            det = rng.choice(("the",) * 5 + ("this", "that", "my", "his", "her", "our", "their", "your"))
            if plural:
                det = {"this": "these", "that": "those"}.get(det, det)
            if rng.random() < 0.08:
                return self.name(rng).glue("'s") + w(phrase)
            return w(f"{det} {phrase}")
        if plural:
            if rng.random() < 0.4:
                return self.count(rng, rng.randint(2, 40)) + w(phrase)
            det = rng.choice(("", "some", "several", "many", "a few", "two", "three"))
            return w(f"{det} {phrase}".strip())
        if not noun.plural:  # uncountable
            return w(f"{rng.choice(('some', 'the', 'a little', 'much', 'more'))} {phrase}")
        return w(f"{article(phrase)} {phrase}")

    def subject(self, rng, allow_pronoun: bool = True) -> Subject:
        r = rng.random()
        if allow_pronoun and r < 0.2:
            pronoun, person, plural = rng.choice(
                (("I", 1, False), ("you", 2, False), ("he", 3, False), ("she", 3, False), ("we", 1, True),
                 ("they", 3, True))
            )
            return Subject(w(pronoun), person, plural)
        if r < 0.55:
            if rng.random() < 0.12:
                return Subject(self.name(rng) + w("and") + self.name(rng), 3, True)
            return Subject(self.name(rng), 3, False)
        cls = "person" if rng.random() < 0.75 else "animal"
        noun_phrase = self.np(rng, cls, definite=rng.random() < 0.8)
        return Subject(noun_phrase, 3, self._is_plural(noun_phrase, cls))

    def _is_plural(self, phrase: Words, cls: str) -> bool:
        last = phrase.text.split()[-1]
        return any(n.plural == last and n.plural != n.singular for n in self.lex.nouns[cls])

    def pp(self, rng, motion: bool = False) -> Words:
        if rng.random() < 0.3:
            return self.place_name(rng, motion)
        return w(rng.choice(_PREPOSITIONS)) + self.np(rng, "place", plural=False, definite=True)

    def object_np(self, rng, frame: str) -> Words:
        cls = rng.choice(frame.split())
        if cls == "person" and rng.random() < 0.35:
            return self.name(rng)
        return self.np(rng, cls)

    def verb_and_object(self, rng):
        """(verb, object words or EMPTY); intransitive verbs about a third of the time."""
        frame = rng.choice(("thing", "food", "person animal", "place", "abstract", "", "", ""))
        verb = rng.choice(self.lex.verbs[frame])
        return verb, (self.object_np(rng, frame) if frame else EMPTY)

    def vp(self, rng, subj: Subject, tense: str = None) -> Words:
        """Verb phrase agreeing with ``subj``; tense among past, present, progressive, future,
        modal, perfect; negated some of the time (often with a contraction)."""
        verb, obj = self.verb_and_object(rng)
        tense = tense or rng.choice(("past",) * 5 + ("present", "progressive", "future", "modal", "perfect", "past"))
        negate = rng.random() < 0.15
        contract = rng.random() < 0.6
        be_present = "am" if subj.person == 1 and not subj.plural else ("is" if subj.third_singular else "are")
        have = "has" if subj.third_singular else "have"
        if tense == "past":
            if negate:
                words = w(f"{_negate('did', contract)} {verb.base}")
            elif rng.random() < 0.15:
                words = w(f"{rng.choice(self.lex.adverbs['frequency'])} {verb.past}")
            else:
                words = w(verb.past)
        elif tense == "present":
            if negate:
                words = w(f"{_negate('does' if subj.third_singular else 'do', contract)} {verb.base}")
            else:
                adv = rng.choice(self.lex.adverbs["frequency"]) + " " if rng.random() < 0.4 else ""
                words = w(adv + (verb.third if subj.third_singular else verb.base))
        elif tense == "progressive":
            be = rng.choice((be_present, "was" if not subj.plural and subj.person != 2 else "were"))
            words = w(f"{be} {'not ' if negate else ''}{verb.ing}")
        elif tense == "future":
            words = w(f"{_negate('will', contract) if negate else 'will'} {verb.base}")
        elif tense == "modal":
            modal = rng.choice(_MODALS)
            words = w(f"{_negate(modal, contract) if negate else modal} {verb.base}")
        else:
            aux = rng.choice((have, "had"))
            words = w(f"{_negate(aux, contract) if negate else aux} {verb.participle}")
        words = words + obj
        r = rng.random()
        if r < 0.2:
            words = words + w(rng.choice(self.lex.adverbs["manner"]))
        elif r < 0.45 and not obj.raw:
            words = words + self.pp(rng, motion=True)
        elif r < 0.55:
            words = words + self.pp(rng)
        return words

    def clause(self, rng, tense: str = None, allow_pronoun: bool = True) -> Words:
        subj = self.subject(rng, allow_pronoun)
        return subj.words + self.vp(rng, subj, tense)

    # --- sentence templates -----------------------------------------------------------------

    @staticmethod
    def finish(words: Words, end: str = ".") -> Words:
        return Words(capitalize(words.raw) + end, capitalize(words.text) + end)

    def t_statement(self, rng):
        words = self.clause(rng)
        if rng.random() < 0.35:
            words = words + self.time(rng)
        return self.finish(words)

    def t_time_statement(self, rng):
        return self.finish(self.time(rng).glue(",") + self.clause(rng, tense="past"))

    def t_compound(self, rng):
        first = self.clause(rng, tense="past").glue(",")
        return self.finish(first + w(rng.choice(_CONJUNCTIONS)) + self.clause(rng, tense="past"))

    def t_subordinate(self, rng):
        first = w(rng.choice(_SUBORDINATORS)) + self.clause(rng, tense="past")
        return self.finish(first.glue(",") + self.clause(rng, tense="past"))

    def t_quote(self, rng):
        inner = self.finish(self.clause(rng, tense=rng.choice(("present", "future", "modal", "past"))), "")
        say = rng.choice(_SAY)
        speaker = self.name(rng) if rng.random() < 0.6 else self.np(rng, "person", plural=False, definite=True)
        if rng.random() < 0.5:
            tail = (w(say) + speaker) if rng.random() < 0.5 else (speaker + w(say))
            return self.finish(Words(f'"{inner.raw},"', f'"{inner.text},"') + tail)
        return self.finish(speaker + w(say).glue(",") + Words(f'"{inner.raw}.', f'"{inner.text}.'), '"')

    def t_question(self, rng):
        subj = self.subject(rng)
        verb, obj = self.verb_and_object(rng)
        r = rng.random()
        if r < 0.4:
            aux = rng.choice(("did", "does" if subj.third_singular else "do", "will", "can", "could", "should"))
            body = w(aux) + subj.words + w(verb.base) + obj
        elif r < 0.8:
            wh = rng.choice(("why", "where", "when", "how", "how often"))
            aux = rng.choice(("did", "will", "could", "would", "does" if subj.third_singular else "do"))
            body = w(f"{wh} {aux}") + subj.words + w(verb.base) + obj
        else:
            have = "has" if subj.third_singular else "have"
            body = w(have) + subj.words + w(f"ever {verb.participle}") + obj
        if rng.random() < 0.25:
            body = body + self.time(rng)
        return self.finish(body, "?")

    def t_there_was(self, rng):
        cls = rng.choice(("thing", "animal", "person", "food"))
        plural = rng.random() < 0.4
        noun_phrase = self.np(rng, cls, plural=plural, definite=False)
        plural = self._is_plural(noun_phrase, cls)
        be = rng.choice(("were", "are") if plural else ("was", "is"))
        words = w(f"there {be}") + noun_phrase + self.pp(rng)
        if rng.random() < 0.3:
            words = words + self.time(rng)
        return self.finish(words)

    def t_description(self, rng):
        subj = self.subject(rng, allow_pronoun=False)
        adjs = self.lex.adjectives["person"]
        adj = rng.choice(adjs)
        if rng.random() < 0.4:
            adj = f"{rng.choice(self.lex.adverbs['degree'])} {adj}"
        be = "were" if subj.plural else "was"
        if rng.random() < 0.3:
            be = "weren't" if subj.plural else "wasn't"
        words = subj.words + w(f"{be} {adj}")
        if rng.random() < 0.5:
            words = words.glue(",") + w(rng.choice(("because", "since", "although", "for"))) + self.clause(rng, "past")
        return self.finish(words)

    def t_first_person(self, rng):
        r = rng.random()
        if r < 0.5:
            opener = w(f"I {rng.choice(_THINK)} that") if rng.random() < 0.5 else w(f"I {rng.choice(_THINK)}")
            return self.finish(opener + self.clause(rng, allow_pronoun=False))
        if r < 0.75:
            modal = rng.choice(("We can't", "We mustn't", "We'll", "We've got to", "I'd like to", "I won't",
                                "Let's", "You'll have to", "I'm going to", "They'd rather"))
            verb, obj = self.verb_and_object(rng)
            words = w(modal) + w(verb.base) + obj
            if rng.random() < 0.4:
                words = words + self.time(rng)
            return self.finish(words)
        subj = self.subject(rng, allow_pronoun=False)
        opener = rng.choice(("It's true that", "It's said that", "Everyone knew that", "Nobody knew why",
                             "I'm afraid that", "It seems that", "Don't forget that"))
        return self.finish(w(opener) + subj.words + self.vp(rng, subj))

    def t_numbers(self, rng):
        subj = self.subject(rng)
        r = rng.random()
        if r < 0.35:
            dollars = rng.choice((1, 2, 3, 5, 10, 12, 20, 25, 50, 100, 150, 300, 1000, 2500))
            cents = rng.choice((0, 0, 0, 50, 25, 99))
            noun_phrase = self.np(rng, rng.choice(("thing", "food", "animal")), definite=True)
            unit = "dollar" if dollars == 1 else "dollars"
            raw = f"${dollars:,}" + (f".{cents:02d}" if cents else "")
            text = f"{numbers.cardinal(dollars)} {unit}" + (f" and {numbers.cardinal(cents)} cents" if cents else "")
            return self.finish(subj.words + w(rng.choice(("paid", "spent", "wanted", "asked"))) + Words(raw, text)
                               + w("for") + noun_phrase)
        if r < 0.65:
            n = rng.choice((rng.randint(2, 20), rng.randint(21, 999), rng.randint(1000, 50000)))
            cls = rng.choice(("thing", "food", "animal", "person"))
            noun = rng.choice([x for x in self.lex.nouns[cls] if x.plural])
            verb = rng.choice(("counted", "found", "saw", "bought", "sold", "had", "needed", "lost", "kept"))
            words = subj.words + w(verb) + self.count(rng, n) + w(noun.plural)
            return self.finish(words + (self.time(rng) if rng.random() < 0.4 else EMPTY))
        if r < 0.85:
            pct = rng.randint(2, 99)
            noun = rng.choice([x for x in self.lex.nouns["person"] if x.plural])
            words = Words(
                f"about {pct}% of the {noun.plural}", f"about {numbers.cardinal(pct)} percent of the {noun.plural}"
            )
            return self.finish(words + self.vp(rng, Subject(w("they"), 3, True), "past"))
        y = rng.randint(1500, 2030)
        words = Words(f"in the year {y}", f"in the year {numbers.year(y)}").glue(",") + self.clause(rng, "past")
        return self.finish(words)

    def t_relative(self, rng):
        cls = rng.choice(("thing", "food", "place", "animal"))
        head = self.np(rng, cls, plural=False, definite=True)
        subj = self.subject(rng)
        frame = {"thing": "thing", "food": "food", "place": "place", "animal": "person animal"}[cls]
        verb = rng.choice(self.lex.verbs[frame])
        rel = rng.choice(("that", "which", "")) if cls != "animal" else rng.choice(("that", ""))
        adj = self.adjective(rng, cls)
        if rng.random() < 0.5:
            words = head + w(rel) + subj.words + w(f"{verb.past} was {adj}")
        else:
            words = w("nobody noticed") + head + w(rel) + subj.words + w(verb.past)
        return self.finish(words)

    def t_imperative(self, rng):
        verb, obj = self.verb_and_object(rng)
        opener = rng.choice(("please", "don't", "never", "always", "now", "quickly", "just"))
        words = w(f"{opener} {verb.base}") + obj
        if rng.random() < 0.5:
            words = words + self.pp(rng)
        return self.finish(words, rng.choice((".", "!")))

    def t_exclamation(self, rng):
        cls = rng.choice(("thing", "animal", "place", "food", "person"))
        noun = rng.choice([x for x in self.lex.nouns[cls] if x.plural])
        adj = self.adjective(rng, cls)
        if rng.random() < 0.5:
            return self.finish(w(f"what {article(adj)} {adj} {noun.singular} that was"), "!")
        return self.finish(w(f"how {adj} the {noun.plural} looked") + self.time(rng), "!")

    def t_list(self, rng):
        subj = self.subject(rng)
        cls = rng.choice(("thing", "food", "animal"))
        items = [self.np(rng, cls, definite=False) for _ in range(rng.randint(2, 4))]
        listed = EMPTY
        for i, item in enumerate(items):
            if i == len(items) - 1:
                listed = listed + w("and") + item
            else:
                listed = listed + (item.glue(",") if len(items) > 2 else item)
        verb = rng.choice(("bought", "brought", "found", "packed", "carried", "wanted", "sold", "needed"))
        return self.finish(subj.words + w(verb) + listed)
