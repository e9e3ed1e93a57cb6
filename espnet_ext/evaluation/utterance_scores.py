"""Per-utterance figures of stage 7, ``<decode_dir>/<set>/utt_scores.json``: what the listening
page (``espnet_ext.evaluation.samples_page``) shows beside each sample.

    {utt: {"cer": 12.5, "wer": 33.3, "hyp": "...",                        # ASR: the model's own decoding
           "judge_synth_cer": 20.0, "judge_synth_hyp": "...",             # TTS / VC: the judge ASR
           "judge_real_cer": ..., "judge_gl_copy_cer": ..., "spk_sim_target": 0.81, "spk_sim_source": ...}}

Keys follow ``score.json``'s (``judge_<kind>`` + ``_cer`` / ``_hyp``); percentages as there.
"""
import json
from pathlib import Path
from typing import Callable, Dict, Optional

from espnet_ext.corpora.data_dir import write_text_atomic
from espnet_ext.evaluation.text_metrics import error_rate

UTT_SCORES = "utt_scores.json"


def add_transcripts(per_utt: Dict[str, dict], prefix: str, refs: Dict[str, str], hyps: Dict[str, str],
                    normalizer: Optional[Callable[[str], str]] = None) -> None:
    """Adds ``<prefix>cer``, ``<prefix>wer`` (%) and ``<prefix>hyp`` of every hypothesis to ``per_utt``."""
    for utt, hyp in hyps.items():
        row = per_utt.setdefault(utt, {})
        row[f"{prefix}cer"] = error_rate(refs[utt], hyp, "char", normalizer).percent
        row[f"{prefix}wer"] = error_rate(refs[utt], hyp, "word", normalizer).percent
        row[f"{prefix}hyp"] = hyp


def add_values(per_utt: Dict[str, dict], key: str, values: Dict[str, float]) -> None:
    for utt, value in values.items():
        per_utt.setdefault(utt, {})[key] = float(value)


def write_utt_scores(decode: Path, per_utt: Dict[str, dict]) -> None:
    write_text_atomic(Path(decode) / UTT_SCORES, json.dumps(dict(sorted(per_utt.items())), indent=1, ensure_ascii=False))


def read_utt_scores(decode: Path) -> Dict[str, dict]:
    """{} when the set was scored before per-utterance figures were written."""
    path = Path(decode) / UTT_SCORES
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
