"""An Arabic (MSA) sentence grammar over the word lists in ``wordlists/ar/``.

Sentences are fully diacritised, as the Arabic Speech Corpus transcripts are: nouns and adjectives
carry case endings (triptote / diptote / sound plurals), adjectives agree in gender, case and
definiteness (non-human plurals take feminine singular agreement), verbs agree with their
subject, and the last word of a sentence is in its pausal form. Sentences are strings in Arabic
script; ``espnet_ext.text.buckwalter.to_buckwalter`` gives their transliteration.
"""
import random
import re
from dataclasses import dataclass

from espnet_ext.synth.lexicon import read_sections

FATHA, DAMMA, KASRA, SUKUN, SHADDA = "\u064E", "\u064F", "\u0650", "\u0652", "\u0651"
FATHATAN, DAMMATAN, KASRATAN = "\u064B", "\u064C", "\u064D"
ALIF, TA_MARBUTA, ALIF_MAQSURA, HAMZA, YA, WAW = "\u0627", "\u0629", "\u0649", "\u0621", "\u064A", "\u0648"
SHORT_VOWELS = (FATHA, DAMMA, KASRA)
SUN_LETTERS = "تثدذرزسشصضطظلن"
ARTICLE = ALIF + "ل"
COMMA, QUESTION = "،", "؟"
CASES = ("nom", "acc", "gen")


def definite(stem: str) -> str:
    """Attach the article: sun letters are assimilated (shadda), moon letters keep 'al-' (sukun)."""
    if stem[0] in SUN_LETTERS:
        return ARTICLE + stem[0] + SHADDA + stem[1:]
    return ARTICLE + SUKUN + stem


def decline(stem: str, case: str, is_definite: bool, declension: str = "t") -> str:
    """Add the case ending. ``declension``: 't' triptote, 'd' diptote, 'i' indeclinable.

    Definite covers both the article and the construct state (no tanween in either).
    Sound feminine (-aat) and masculine (-uuna) plurals are recognised by their ending.
    """
    if declension == "i":
        return stem
    if stem.endswith(DAMMA + WAW + "ن" + FATHA):  # sound masculine plural: -uuna / -iina
        return stem if case == "nom" else stem[: -4] + KASRA + YA + "ن" + FATHA
    if stem.endswith(ALIF + "ت"):  # sound feminine plural: no accusative -a
        if is_definite:
            return stem + (DAMMA if case == "nom" else KASRA)
        return stem + (DAMMATAN if case == "nom" else KASRATAN)
    if is_definite or declension == "d":
        vowel = {"nom": DAMMA, "acc": FATHA, "gen": KASRA}[case]
        if declension == "d" and not is_definite and case == "gen":
            vowel = FATHA  # diptotes take -a in the indefinite genitive
        return stem + vowel
    if case == "nom":
        return stem + DAMMATAN
    if case == "gen":
        return stem + KASRATAN
    # Indefinite accusative: -an, written with a supporting alif except after taa marbuuta / -aa'.
    if stem.endswith(TA_MARBUTA) or stem.endswith(ALIF + HAMZA):
        return stem + FATHATAN
    return stem + FATHATAN + ALIF


def pausal(word: str) -> str:
    """The pausal form of a sentence-final word: the final short vowel or tanween is dropped."""
    if word.endswith(FATHATAN + ALIF):
        return word[:-2] + FATHA + ALIF
    if word and word[-1] in SHORT_VOWELS + (DAMMATAN, KASRATAN, FATHATAN):
        body = word[:-1]
        return body if body.endswith(SHADDA) else body + SUKUN
    return word


def shadda_first(text: str) -> str:
    """Write shadda before the vowel it carries (the Buckwalter order of the Arabic Speech Corpus:
    ``j~a``); Unicode's canonical order would put the vowel first."""
    return _VOWEL_SHADDA.sub(SHADDA + r"\1", text)


_VOWEL_SHADDA = re.compile(f"([{FATHA}{DAMMA}{KASRA}{FATHATAN}{DAMMATAN}{KASRATAN}]){SHADDA}")


def connect(words: list) -> list:
    """Helping vowels before hamzat al-wasl: a final sukun becomes kasra (min -> mina) when the
    next word starts with a bare alif (the article, or verbs like ishtaraa)."""
    out = list(words)
    for i in range(len(out) - 1):
        if out[i].endswith(SUKUN) and out[i + 1].startswith(ALIF):
            out[i] = out[i][:-1] + (FATHA if out[i] == "مِنْ" else KASRA)
    return out


def feminine_past(past: str) -> str:
    """Past 3rd masc. sg. -> 3rd fem. sg.: katab-a -> katab-at, mash-aa -> mash-at."""
    if past.endswith((ALIF_MAQSURA, ALIF)):
        past = past[:-1]
    return past + "ت" + SUKUN


def present_person(present: str, prefix: str) -> str:
    """yaktubu -> taktubu ('ت'), aktubu ('أ'), naktubu ('ن'): swap the imperfect prefix."""
    return prefix + present[1:]


def subjunctive(present: str) -> str:
    """yaktubu -> yaktuba (after 'an', 'lan'); yamshii -> yamshiya; yansaa unchanged."""
    if present.endswith(DAMMA):
        return present[:-1] + FATHA
    if present.endswith((YA, WAW)):
        return present + FATHA
    return present


@dataclass(frozen=True)
class ArNoun:
    singular: str
    plural: str  # "" when the plural is not used
    gender: str  # 'm' or 'f'
    plural_declension: str
    cls: str


@dataclass(frozen=True)
class ArVerb:
    past: str
    present: str
    past_1s: str


@dataclass(frozen=True)
class ArName:
    name: str
    declension: str
    gender: str


def _rows(lang: str, name: str) -> dict:
    return {section: [line.split("\t") for line in lines] for section, lines in read_sections(lang, name, True).items()}


class ArabicLexicon:
    def __init__(self):
        self.nouns = {
            cls: tuple(ArNoun(sg, "" if pl == "-" else pl, g, decl, cls) for sg, pl, g, decl in rows)
            for cls, rows in _rows("ar", "nouns").items()
        }
        self.adjectives = {cls: tuple(tuple(r) for r in rows) for cls, rows in _rows("ar", "adjectives").items()}
        self.verbs = {frame: tuple(ArVerb(*r) for r in rows) for frame, rows in _rows("ar", "verbs").items()}
        names = _rows("ar", "names")
        self.names = {g: tuple(ArName(n, d, g) for n, d in names[g]) for g in ("male", "female")}
        self.places = tuple(tuple(r) for r in _rows("ar", "places")[""])
        self.times = tuple(r[0] for r in _rows("ar", "time_phrases")[""])
        self.adverbs = tuple(r[0] for r in _rows("ar", "adverbs")[""])

    @property
    def vocabulary(self) -> frozenset:
        """Every written form in the lists (stems, plurals, feminine and verb forms)."""
        forms = set()
        for nouns in self.nouns.values():
            forms.update(x for n in nouns for x in (n.singular, n.plural) if x)
        for rows in self.adjectives.values():
            forms.update(x for r in rows for x in r)
        for verbs in self.verbs.values():
            forms.update(x for v in verbs for x in (v.past, v.present, v.past_1s))
        forms.update(n.name for names in self.names.values() for n in names)
        forms.update(p for p, _ in self.places)
        for phrase in self.times + self.adverbs:
            forms.update(phrase.split())
        return frozenset(forms)


@dataclass(frozen=True)
class ArSubject:
    words: str
    gender: str  # 'm' or 'f'; agreement of a verb that precedes or follows the subject


PREPOSITIONS_PLACE = ("فِي", "قُرْبَ", "أَمَامَ", "خَلْفَ", "بِجَانِبِ", "عِنْدَ", "دَاخِلَ", "خَارِجَ")
DEGREE = "جِدًّا"


class ArabicGrammar:
    """``sentence(rng)`` draws one fully diacritised sentence (a string); deterministic in ``rng``."""

    def __init__(self, lexicon: ArabicLexicon = None):
        self.lex = lexicon or ArabicLexicon()
        self.templates = (
            (self.t_verbal, 6),
            (self.t_motion, 3),
            (self.t_nominal, 3),
            (self.t_existential, 2),
            (self.t_svo, 3),
            (self.t_future, 2),
            (self.t_negative, 2),
            (self.t_question, 2),
            (self.t_said, 2),
            (self.t_kaana, 2),
            (self.t_first_person, 3),
            (self.t_want, 2),
            (self.t_compound, 4),
        )
        self._weights = [weight for _, weight in self.templates]

    def sentence(self, rng: random.Random) -> str:
        (template,) = rng.choices([t for t, _ in self.templates], weights=self._weights)
        words, end = template(rng)
        words = connect(" ".join(words).split())
        words[-1] = pausal(words[-1])
        return shadda_first(" ".join(words) + end)

    # --- phrases ----------------------------------------------------------------------------

    def adjective(self, rng, cls: str, gender: str) -> str:
        pool = self.lex.adjectives["general"] if rng.random() < 0.5 else self.lex.adjectives.get(cls, ())
        masc, fem = rng.choice(pool or self.lex.adjectives["general"])
        return fem if gender == "f" else masc

    def np(self, rng, cls: str, case: str, is_definite: bool = None, plural: bool = None, adjective=None) -> str:
        """Noun (+ agreeing adjective) in ``case``; plurals only for non-human classes."""
        noun = rng.choice(self.lex.nouns[cls])
        if is_definite is None:
            is_definite = rng.random() < 0.6
        if plural is None:
            plural = cls != "person" and bool(noun.plural) and rng.random() < 0.25
        plural = plural and bool(noun.plural)
        stem, decl = (noun.plural, noun.plural_declension) if plural else (noun.singular, "t")
        head = decline(definite(stem) if is_definite else stem, case, is_definite, decl)
        if adjective is None:
            adjective = rng.random() < 0.45 and not (plural and cls == "person")
        if not adjective:
            return head
        agree = "f" if plural else noun.gender  # non-human plurals agree as feminine singular
        adj = self.adjective(rng, cls, agree)
        return f"{head} {decline(definite(adj) if is_definite else adj, case, is_definite)}"

    def name(self, rng, case: str, gender: str = None) -> ArSubject:
        gender = gender or rng.choice(("male", "female"))
        n = rng.choice(self.lex.names[gender])
        return ArSubject(decline(n.name, case, False, n.declension), gender[0])

    def subject(self, rng, case: str = "nom") -> ArSubject:
        r = rng.random()
        if r < 0.4:
            return self.name(rng, case)
        if r < 0.5:  # construct: "the friend of Ahmad"
            noun = rng.choice(self.lex.nouns["person"])
            owner = self.name(rng, "gen")
            return ArSubject(f"{decline(noun.singular, case, True)} {owner.words}", noun.gender)
        cls = "person" if rng.random() < 0.75 else "animal"
        noun = rng.choice(self.lex.nouns[cls])
        head = decline(definite(noun.singular), case, True)
        if rng.random() < 0.35:
            head += " " + decline(definite(self.adjective(rng, cls, noun.gender)), case, True)
        return ArSubject(head, noun.gender)

    def place(self, rng) -> str:
        """A prepositional phrase of place (genitive)."""
        if rng.random() < 0.3:
            name, decl = rng.choice(self.lex.places)
            prep = rng.choice(("فِي", "فِي", "إِلَى", "مِنْ", "قُرْبَ"))
            if decl == "def":
                return f"{prep} {decline(name, 'gen', True)}"
            return f"{prep} {decline(name, 'gen', False, decl)}"
        return f"{rng.choice(PREPOSITIONS_PLACE)} {self.np(rng, 'place', 'gen', is_definite=True, plural=False)}"

    def destination(self, rng) -> str:
        if rng.random() < 0.4:
            name, decl = rng.choice(self.lex.places)
            if decl == "def":
                return f"إِلَى {decline(name, 'gen', True)}"
            return f"إِلَى {decline(name, 'gen', False, decl)}"
        return f"إِلَى {self.np(rng, 'place', 'gen', is_definite=True, plural=False)}"

    def time(self, rng) -> str:
        return rng.choice(self.lex.times)

    def verb_and_object(self, rng):
        frame = rng.choice(("transitive: thing", "transitive: food", "transitive: person animal",
                            "transitive: place", "transitive: abstract", "intransitive"))
        verb = rng.choice(self.lex.verbs[frame])
        if frame == "intransitive":
            return verb, ""
        cls = rng.choice(frame.split(":")[1].split())
        if cls == "person" and rng.random() < 0.35:
            return verb, self.name(rng, "acc").words
        return verb, self.np(rng, cls, "acc")

    def extras(self, rng, has_object: bool) -> list:
        out = []
        r = rng.random()
        if r < 0.3 or (not has_object and r < 0.6):
            out.append(self.place(rng))
        if rng.random() < 0.3:
            out.append(self.time(rng))
        elif rng.random() < 0.12:
            out.append(rng.choice(self.lex.adverbs))
        return out

    def verbal_clause(self, rng) -> list:
        subj = self.subject(rng)
        verb, obj = self.verb_and_object(rng)
        past = verb.past if subj.gender == "m" else feminine_past(verb.past)
        return [past, subj.words, obj] + self.extras(rng, bool(obj))

    # --- templates: each returns (words, final punctuation) ---------------------------------

    def t_verbal(self, rng):
        return self.verbal_clause(rng), "."

    def t_motion(self, rng):
        subj = self.subject(rng)
        verb = rng.choice(self.lex.verbs["motion"])
        past = verb.past if subj.gender == "m" else feminine_past(verb.past)
        words = [past, subj.words, self.destination(rng)]
        if rng.random() < 0.5:
            words.append(self.time(rng))
        return words, "."

    def t_nominal(self, rng):
        cls = rng.choice(("person", "animal", "thing", "food", "place", "abstract"))
        noun = rng.choice(self.lex.nouns[cls])
        if rng.random() < 0.3 and cls != "person":  # construct subject: "the door of the house"
            owner_cls = rng.choice(("person", "place"))
            owner = self.np(rng, owner_cls, "gen", is_definite=True, plural=False, adjective=False)
            head = f"{decline(noun.singular, 'nom', True)} {owner}"
        else:
            head = decline(definite(noun.singular), "nom", True)
        pred = decline(self.adjective(rng, cls, noun.gender), "nom", False)
        words = [head, pred]
        if rng.random() < 0.3:
            words.append(DEGREE)
        return words, "."

    def t_existential(self, rng):
        cls = rng.choice(("thing", "animal", "food", "person"))
        return [self.place(rng), self.np(rng, cls, "nom", is_definite=False, plural=False)], "."

    def t_svo(self, rng):
        subj = self.subject(rng)
        verb, obj = self.verb_and_object(rng)
        present = verb.present if subj.gender == "m" else present_person(verb.present, "ت")
        return [subj.words, present, obj] + self.extras(rng, bool(obj)), "."

    def t_future(self, rng):
        subj = self.subject(rng)
        verb, obj = self.verb_and_object(rng)
        present = verb.present if subj.gender == "m" else present_person(verb.present, "ت")
        aux = "سَ" if rng.random() < 0.6 else "سَوْفَ "
        words = [aux + present, subj.words, obj]
        if rng.random() < 0.4:
            words.append(self.place(rng))
        if rng.random() < 0.4:
            words.append("غَدًا")
        return words, "."

    def t_negative(self, rng):
        subj = self.subject(rng)
        verb, obj = self.verb_and_object(rng)
        if rng.random() < 0.5:
            present = verb.present if subj.gender == "m" else present_person(verb.present, "ت")
            return ["لَا", present, subj.words, obj] + self.extras(rng, bool(obj)), "."
        past = verb.past if subj.gender == "m" else feminine_past(verb.past)
        return ["مَا", past, subj.words, obj] + self.extras(rng, bool(obj)), "."

    def t_question(self, rng):
        r = rng.random()
        if r < 0.5:
            return ["هَلْ"] + self.verbal_clause(rng), QUESTION
        subj = self.subject(rng)
        verb, obj = self.verb_and_object(rng)
        present = verb.present if subj.gender == "m" else present_person(verb.present, "ت")
        wh = rng.choice(("أَيْنَ", "مَتَى", "لِمَاذَا", "كَيْفَ"))
        return [wh, present, subj.words, obj], QUESTION

    def t_said(self, rng):
        speaker = self.subject(rng)
        said = "قَالَ" if speaker.gender == "m" else "قَالَتْ"
        cls = rng.choice(("thing", "food", "place", "abstract", "animal"))
        noun = rng.choice(self.lex.nouns[cls])
        topic = decline(definite(noun.singular), "acc", True)  # the subject of 'inna' is accusative
        pred = decline(self.adjective(rng, cls, noun.gender), "nom", False)
        return [said, speaker.words, "إِنَّ", topic, pred], "."

    def t_kaana(self, rng):
        cls = rng.choice(("person", "animal", "thing", "food", "place", "abstract"))
        noun = rng.choice(self.lex.nouns[cls])
        kaana = "كَانَ" if noun.gender == "m" else "كَانَتْ"
        head = decline(definite(noun.singular), "nom", True)
        pred = decline(self.adjective(rng, cls, noun.gender), "acc", False)  # the predicate of kaana is accusative
        words = [kaana, head, pred]
        if rng.random() < 0.4:
            words.append(self.time(rng))
        return words, "."

    def t_first_person(self, rng):
        verb, obj = self.verb_and_object(rng)
        r = rng.random()
        if r < 0.4:
            words = [verb.past_1s, obj]
        elif r < 0.7:
            words = [present_person(verb.present, "أ"), obj]
        else:
            words = [present_person(verb.present, "ن"), obj]
        return words + self.extras(rng, bool(obj)), "."

    def t_want(self, rng):
        subj = self.subject(rng)
        verb, obj = self.verb_and_object(rng)
        want = "يُرِيدُ" if subj.gender == "m" else "تُرِيدُ"
        inner = subjunctive(verb.present if subj.gender == "m" else present_person(verb.present, "ت"))
        return [want, subj.words, "أَنْ", inner, obj] + self.extras(rng, bool(obj)), "."

    def t_compound(self, rng):
        first = self.verbal_clause(rng)
        second = self.verbal_clause(rng)
        joiner = rng.choice(("وَ", "فَ", "ثُمَّ"))
        glued = [joiner + second[0]] + second[1:] if len(joiner) == 2 else [joiner] + second
        return [" ".join(w for w in first if w) + COMMA] + glued, "."
