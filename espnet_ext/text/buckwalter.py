"""Buckwalter transliteration <-> Arabic script.

The table is the standard (Tim Buckwalter, LDC) one, as the Arabic Speech Corpus transcripts use
it; both directions are lossless over the table's characters, and characters outside the table
pass through unchanged.
"""

# Buckwalter symbol -> Arabic code point.
BUCKWALTER_TO_ARABIC = {
    "'": "\u0621",  # hamza
    "|": "\u0622",  # alef with madda above
    ">": "\u0623",  # alef with hamza above
    "&": "\u0624",  # waw with hamza above
    "<": "\u0625",  # alef with hamza below
    "}": "\u0626",  # yeh with hamza above
    "A": "\u0627",  # alef
    "b": "\u0628",
    "p": "\u0629",  # teh marbuta
    "t": "\u062A",
    "v": "\u062B",
    "j": "\u062C",
    "H": "\u062D",
    "x": "\u062E",
    "d": "\u062F",
    "*": "\u0630",
    "r": "\u0631",
    "z": "\u0632",
    "s": "\u0633",
    "$": "\u0634",
    "S": "\u0635",
    "D": "\u0636",
    "T": "\u0637",
    "Z": "\u0638",
    "E": "\u0639",
    "g": "\u063A",
    "_": "\u0640",  # tatweel
    "f": "\u0641",
    "q": "\u0642",
    "k": "\u0643",
    "l": "\u0644",
    "m": "\u0645",
    "n": "\u0646",
    "h": "\u0647",
    "w": "\u0648",
    "Y": "\u0649",  # alef maksura
    "y": "\u064A",
    "F": "\u064B",  # fathatan
    "N": "\u064C",  # dammatan
    "K": "\u064D",  # kasratan
    "a": "\u064E",  # fatha
    "u": "\u064F",  # damma
    "i": "\u0650",  # kasra
    "~": "\u0651",  # shadda
    "o": "\u0652",  # sukun
    "`": "\u0670",  # superscript (dagger) alef
    "{": "\u0671",  # alef wasla
}
ARABIC_TO_BUCKWALTER = {ar: bw for bw, ar in BUCKWALTER_TO_ARABIC.items()}


def from_buckwalter(text: str) -> str:
    """Buckwalter transliteration -> Arabic script."""
    return "".join(BUCKWALTER_TO_ARABIC.get(ch, ch) for ch in text)


def to_buckwalter(text: str) -> str:
    """Arabic script -> Buckwalter transliteration."""
    return "".join(ARABIC_TO_BUCKWALTER.get(ch, ch) for ch in text)
