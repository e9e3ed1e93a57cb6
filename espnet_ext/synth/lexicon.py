"""Reading the word lists shipped in ``espnet_ext/synth/wordlists/<lang>/*.txt``.

Format: ``#`` starts a comment line, ``[section]`` starts a section; entries are separated by
whitespace (``_`` joins the words of a multi-word entry), or are whole lines in files read with
``per_line=True``.
"""
from functools import lru_cache
from importlib import resources


def wordlist_path(lang: str, name: str):
    """The packaged file ``wordlists/<lang>/<name>.txt`` (a Traversable)."""
    return resources.files("espnet_ext.synth").joinpath("wordlists").joinpath(lang).joinpath(f"{name}.txt")


@lru_cache(maxsize=None)
def read_sections(lang: str, name: str, per_line: bool = False) -> dict:
    """{section: tuple of entries}, in file order, duplicates within a section dropped.

    Lines before the first header go to section ``""``.
    """
    sections, current = {}, ""
    for raw in wordlist_path(lang, name).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            sections.setdefault(current, [])
            continue
        entries = [line] if per_line else [e.replace("_", " ") for e in line.split()]
        bucket = sections.setdefault(current, [])
        bucket.extend(e for e in entries if e not in bucket)
    return {key: tuple(values) for key, values in sections.items()}
