"""English number words, as the normalised transcripts of LibriTTS and LJSpeech spell them.

Compound numbers are hyphenated ("twenty-one"); LibriSpeech-style transcripts later turn hyphens
into spaces.
"""

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ORDINAL_OF = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}


def cardinal(n: int) -> str:
    """0 <= n < 1,000,000 -> words: 342 -> 'three hundred and forty-two'."""
    if not 0 <= n < 1_000_000:
        raise ValueError(f"cardinal() covers 0..999999, got {n}")
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" and {cardinal(rest)}" if rest else "")
    thousands, rest = divmod(n, 1000)
    tail = "" if not rest else (f" and {cardinal(rest)}" if rest < 100 else f" {cardinal(rest)}")
    return f"{cardinal(thousands)} thousand{tail}"


def ordinal(n: int) -> str:
    """21 -> 'twenty-first', 12 -> 'twelfth', 40 -> 'fortieth'."""
    words = cardinal(n)
    head, sep, last = words.rpartition("-") if "-" in words.split()[-1] else words.rpartition(" ")
    if last in _ORDINAL_OF:
        last = _ORDINAL_OF[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return f"{head}{sep}{last}"


def ordinal_suffix(n: int) -> str:
    """Digits with their written suffix: 1 -> '1st', 12 -> '12th', 23 -> '23rd'."""
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}" + {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def year(y: int) -> str:
    """How a year is read: 1887 -> 'eighteen eighty-seven', 1905 -> 'nineteen oh five'."""
    if not 1000 <= y <= 2099:
        raise ValueError(f"year() covers 1000..2099, got {y}")
    century, rest = divmod(y, 100)
    if 2000 <= y < 2010:
        return cardinal(y)
    if rest == 0:
        return f"{cardinal(century)} hundred"
    return f"{cardinal(century)} " + (f"oh {cardinal(rest)}" if rest < 10 else cardinal(rest))


def clock(hour: int, minute: int) -> str:
    """7:30 -> 'seven thirty', 9:05 -> 'nine oh five', 6:00 -> "six o'clock"."""
    if minute == 0:
        return f"{cardinal(hour)} o'clock"
    return f"{cardinal(hour)} " + (f"oh {cardinal(minute)}" if minute < 10 else cardinal(minute))
