"""Text tools: normalisation and Buckwalter transliteration."""
from espnet_ext.text.buckwalter import from_buckwalter, to_buckwalter
from espnet_ext.text.normalize import (
    normalize,
    normalize_arabic,
    normalize_english,
    remove_arabic_diacritics,
)

__all__ = [
    "from_buckwalter",
    "to_buckwalter",
    "normalize",
    "normalize_arabic",
    "normalize_english",
    "remove_arabic_diacritics",
]
