"""Word and character error rates with jiwer, pooled over a corpus (errors / reference length).

Strings are compared after an optional ``normalizer`` (e.g. ``espnet_ext.text.normalize_english``)
and whitespace collapsing. Characters include the spaces between words, as jiwer counts them.
"""
import re
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Union

import jiwer

_SPACES = re.compile(r"\s+")


@dataclass
class ErrorRate:
    unit: str  # "word" or "char"
    substitutions: int
    deletions: int
    insertions: int
    ref_length: int  # reference words / characters
    utterances: int
    missing: List[str] = field(default_factory=list)  # ids scored with an empty hypothesis

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def rate(self) -> float:
        """Errors / reference length (0 if both are 0; inf if only the reference is empty)."""
        if self.ref_length == 0:
            return 0.0 if self.errors == 0 else float("inf")
        return self.errors / self.ref_length

    @property
    def percent(self) -> float:
        return 100.0 * self.rate


def _prepare(texts: Union[str, Sequence[str]], normalizer: Optional[Callable[[str], str]]) -> List[str]:
    texts = [texts] if isinstance(texts, str) else list(texts)
    if normalizer is not None:
        texts = [normalizer(t) for t in texts]
    return [_SPACES.sub(" ", t).strip() for t in texts]


def error_rate(refs, hyps, unit: str = "word", normalizer=None) -> ErrorRate:
    """References and hypotheses (a string each, or equal-length lists) -> pooled ErrorRate."""
    refs, hyps = _prepare(refs, normalizer), _prepare(hyps, normalizer)
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    if unit == "word":
        out = jiwer.process_words(refs, hyps)
    elif unit == "char":
        out = jiwer.process_characters(refs, hyps)
    else:
        raise ValueError(f"unit must be 'word' or 'char', not {unit!r}")
    ref_length = out.hits + out.substitutions + out.deletions
    return ErrorRate(unit, out.substitutions, out.deletions, out.insertions, ref_length, len(refs))


def word_error_rate(refs, hyps, normalizer=None) -> ErrorRate:
    return error_rate(refs, hyps, "word", normalizer)


def char_error_rate(refs, hyps, normalizer=None) -> ErrorRate:
    return error_rate(refs, hyps, "char", normalizer)


def score_transcripts(refs: Dict[str, str], hyps: Dict[str, str], normalizer=None) -> Dict[str, ErrorRate]:
    """{utt: reference}, {utt: hypothesis} -> {"wer": ..., "cer": ...}.

    An utterance without a hypothesis counts as an empty one (all deletions) and is listed in
    ``missing``; a hypothesis without a reference is an error (wrong reference file).
    """
    extra = sorted(set(hyps) - set(refs))
    if extra:
        raise KeyError(f"{len(extra)} hypotheses have no reference, e.g. {extra[:3]}")
    ids = sorted(refs)
    missing = [u for u in ids if u not in hyps]
    ref_list, hyp_list = [refs[u] for u in ids], [hyps.get(u, "") for u in ids]
    result = {
        "wer": word_error_rate(ref_list, hyp_list, normalizer),
        "cer": char_error_rate(ref_list, hyp_list, normalizer),
    }
    for r in result.values():
        r.missing = missing
    return result
