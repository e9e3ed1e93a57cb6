"""A phone string in the style of the Arabic Speech Corpus ``phonetic-transcipt.txt``.

ASC transcribes each utterance as space-separated phones without word boundaries, with ``sil`` at
both ends and at pauses, geminates as doubled symbols (``jj``, ``tt``), long vowels doubled
(``aa``, ``ii0``, ``uu0``), vowels next to emphatic consonants in capitals (``A``, ``I0``, ``U0``),
``i``/``u`` numbered (``i0``; ``i1`` when stressed) and the stressed vowel of each word marked with
``'``. This module derives such a string from diacritised Buckwalter text by rule (article and
hamzat al-wasl elision, sun-letter assimilation, taa marbuuta, tanween, stress on the last heavy
syllable within the last three); it is plausible, not the corpus annotators' hand alignment.
"""

CONSONANTS = {
    "b": "b", "t": "t", "v": "^", "^": "^", "j": "j", "H": "H", "x": "x", "d": "d", "*": "*", "r": "r",
    "z": "z", "s": "s", "$": "$", "S": "S", "D": "D", "T": "T", "Z": "Z", "E": "E", "g": "g", "f": "f",
    "q": "q", "k": "k", "l": "l", "m": "m", "n": "n", "h": "h", "w": "w", "y": "y",
    "'": "<", ">": "<", "<": "<", "&": "<", "}": "<",
}
EMPHATIC = "SDTZq"  # vowels next to these are "dark" (backed)
SHORT = "aiu"
TANWEEN = {"F": "a", "N": "u", "K": "i"}
PAUSE = "-"


class _Word:
    def __init__(self):
        self.units = []  # ("C", phone) or ("V", quality 'a'/'i'/'u', is_long)

    def consonant(self, phone):
        self.units.append(("C", phone))

    def vowel(self, quality, is_long=False):
        self.units.append(("V", quality, is_long))


def _parse(word: str, utterance_initial: bool) -> _Word:
    out = _Word()
    i = 0
    if word.startswith("Al") and len(word) > 2:  # the article; its hamza is heard only after a pause
        if utterance_initial:
            out.consonant("<")
            out.vowel("a")
        if word[2] == "o":  # moon letter: al-qamar
            out.consonant("l")
            i = 3
        elif word[2] == "~":  # alla*ii, allaah: a doubled l of the word itself
            out.consonant("ll")
            i = 3
        else:  # sun letter: the l assimilates to the next (doubled) consonant
            i = 2
    elif word.startswith("A") and len(word) > 1 and word[1] in CONSONANTS:  # hamzat al-wasl verb
        if utterance_initial:
            out.consonant("<")
            out.vowel("i")
        i = 1
    while i < len(word):
        ch, nxt = word[i], word[i + 1 : i + 2]
        after = word[i + 2 : i + 3]
        if ch == "p":  # taa marbuuta: /t/ before a case vowel, silent in pause
            if nxt and nxt in SHORT + "FNK":
                out.consonant("t")
            i += 1
        elif ch in CONSONANTS:
            phone = CONSONANTS[ch]
            if nxt == "~":
                out.consonant(phone + phone)
                i += 2
            else:
                out.consonant(phone)
                i += 1
        elif ch == "a" and nxt in ("A", "Y"):
            out.vowel("a", True)
            i += 2
        elif ch == "i" and nxt == "y" and not (after and after in SHORT + "~FNKo"):
            out.vowel("i", True)
            i += 2
        elif ch == "u" and nxt == "w" and not (after and after in SHORT + "~FNKo"):
            out.vowel("u", True)
            i += 2
        elif ch in SHORT:
            out.vowel(ch)
            i += 1
        elif ch in TANWEEN:
            out.vowel(TANWEEN[ch])
            out.consonant("n")
            i += 2 if ch == "F" and nxt == "A" else 1
        elif ch in ("A", "Y", "`"):  # a bare alif / alif maqsura / dagger alif: long a
            out.vowel("a", True)
            i += 1
        elif ch == "|":  # alif madda: hamza + long a
            out.consonant("<")
            out.vowel("a", True)
            i += 1
        else:  # sukun, wasla and anything else: no sound of its own
            i += 1
    return out


def _is_geminate(phone: str) -> bool:
    return len(phone) == 2 and phone[0] == phone[1]


def _stress(units: list) -> int:
    """Index (into ``units``) of the stressed vowel: the last heavy syllable among the last three."""
    vowels = [k for k, u in enumerate(units) if u[0] == "V"]
    if not vowels:
        return -1
    if len(vowels) == 1:
        return vowels[0]

    def coda(k):  # consonants after vowel k up to the next vowel (or the word end)
        j, n = k + 1, 0
        while j < len(units) and units[j][0] == "C":
            n += 2 if _is_geminate(units[j][1]) else 1  # a geminate closes one syllable, opens the next
            j += 1
        return n, j == len(units)

    def heavy(k):
        n, at_end = coda(k)
        return units[k][2] or n >= (1 if at_end else 2)

    last = vowels[-1]
    n_last, _ = coda(last)
    if (units[last][2] and n_last >= 1) or n_last >= 2:  # superheavy final syllable
        return last
    if heavy(vowels[-2]) or len(vowels) == 2:
        return vowels[-2]
    return vowels[-3]


def _render(units: list, stressed: int) -> list:
    out = []
    for k, u in enumerate(units):
        if u[0] == "C":
            out.append(u[1])
            continue
        _, quality, is_long = u
        neighbours = [units[j][1][0] for j in (k - 1, k + 1) if 0 <= j < len(units) and units[j][0] == "C"]
        emphatic = any(c in EMPHATIC for c in neighbours)
        symbol = quality.upper() if emphatic else quality
        if is_long:
            symbol = symbol * 2
        if quality in "iu":
            symbol += "1" if (k == stressed and not is_long) else "0"
        out.append(symbol + ("'" if k == stressed else ""))
    return out


def asc_phones(buckwalter: str) -> str:
    """'waraj~aHa Alt~aqoriyru' -> "sil w a r a' jj A H a tt A q r ii0' r u0 sil" (plausible)."""
    tokens = buckwalter.split()
    words, after_pause = [], True
    for tok in tokens:
        if tok == PAUSE:
            words.append(None)
            after_pause = True
            continue
        words.append(_parse(tok, after_pause))
        after_pause = False
    # A long vowel before hamzat al-wasl is shortened (fii l-bayti -> f i0 l b ...).
    for k in range(len(words) - 1):
        if words[k] is None or words[k + 1] is None or not words[k].units:
            continue
        nxt = tokens[k + 1]
        last = words[k].units[-1]
        if nxt.startswith("A") and last[0] == "V" and last[2]:
            words[k].units[-1] = ("V", last[1], False)
    phones = ["sil"]
    for w in words:
        if w is None:
            if phones[-1] != "sil":
                phones.append("sil")
            continue
        phones.extend(_render(w.units, _stress(w.units)))
    if phones[-1] != "sil":
        phones.append("sil")
    return " ".join(phones)
