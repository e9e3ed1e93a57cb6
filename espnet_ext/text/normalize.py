"""Text normalisation for scoring and data preparation.

English: lowercase, punctuation removed, apostrophes kept (``keep_apostrophes=True``) or dropped.
Arabic (as ArTST): Arabic-Indic digits to ASCII, diacritics optionally removed (Unicode category
Mn in U+0600-U+06FE), punctuation removed except ``@`` and ``%``.
"""
import re
import unicodedata

# Arabic-Indic (U+0660-0669) and Extended (Persian, U+06F0-06F9) digits -> ASCII.
_ARABIC_DIGITS = {ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")}
_ARABIC_DIGITS.update({ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")})
_SPACES = re.compile(r"\s+")


def _collapse(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _is_punctuation(ch: str) -> bool:
    return unicodedata.category(ch).startswith(("P", "S"))


def normalize_english(text: str, keep_apostrophes: bool = True) -> str:
    """'Hello, World! It's 5.' -> "hello world it's 5" (apostrophes kept by default)."""
    out = []
    for ch in text.lower():
        if ch in "'’":
            out.append("'" if keep_apostrophes else "")
        elif _is_punctuation(ch):
            out.append(" ")
        else:
            out.append(ch)
    text = _collapse("".join(out))
    # An apostrophe is kept only inside a word ("it's"), not as a quote mark.
    return _collapse(re.sub(r"(?<!\w)'|'(?!\w)", " ", text)) if keep_apostrophes else text


def is_arabic_diacritic(ch: str) -> bool:
    """True for combining marks (Mn) in the Arabic block U+0600-U+06FE."""
    return "\u0600" <= ch <= "\u06FE" and unicodedata.category(ch) == "Mn"


def remove_arabic_diacritics(text: str) -> str:
    return "".join(ch for ch in text if not is_arabic_diacritic(ch))


def normalize_arabic(text: str, remove_diacritics: bool = True) -> str:
    """Digits to ASCII, optional diacritic removal, punctuation removed except '@' and '%'."""
    text = text.translate(_ARABIC_DIGITS)
    if remove_diacritics:
        text = remove_arabic_diacritics(text)
    out = [" " if _is_punctuation(ch) and ch not in "@%" else ch for ch in text]
    return _collapse("".join(out))


def normalize(text: str, lang: str, **options) -> str:
    """Dispatch on language code: 'en' or 'ar'."""
    if lang == "en":
        return normalize_english(text, **options)
    if lang == "ar":
        return normalize_arabic(text, **options)
    raise ValueError(f"no text normaliser for language {lang!r} (known: en, ar)")
