"""The listening page of stage 7: ``exp/<tag>/samples/index.html`` and the audio and images it uses.

A fixed selection per test set (``select_utterances``: sorted ids, those with a saved attention map
first), one row per utterance and one column per system (the recipe's own models, then ``--compare``):

- TTS: text, real recording, Griffin-Lim copy-synthesis of its mel, the trained vocoder's
  copy-synthesis (with ``vocoder_file``), then per system the synthesized speech, its mel above the
  reference mel (from the decode dir's ``feats.scp``) and the cross-attention map stage 6 saved
  (``logdir/output.*/plots/<utt>_att.npy``: the first ``--num_plots`` utterances of each inference
  job; dMel is decoder-only and has none).
- VC: source, the target speaker's recording of the same text, and per system the converted speech.
- ASR: audio, reference, and per system the hypothesis with its errors marked.
Each cell shows that utterance's figures from stage 7 (``utt_scores.json``): judge CER and speaker
similarity for speech, CER / WER for ASR, with the judge's transcript marked the same way.
Plain HTML + CSS, relative paths only, audio as 16 kHz 16-bit WAV: the folder can be zipped as is.
"""
import html
import logging
import re
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

import jiwer
import kaldiio
import numpy as np
import soundfile as sf
import yaml

from espnet_ext.corpora.data_dir import read_kv
from espnet_ext.evaluation.utterance_scores import read_utt_scores
from espnet_ext.text.normalize import normalize_arabic, normalize_english
from espnet_ext.vocoder import load_vocoder
from espnet_ext.vocoder.features import MelConfig, log_mel

FS = 16000  # Hz: every file the page plays
UTTS_PER_SET = 8
TASK_TITLES = {"tts": "TTS", "vc": "VC", "asr": "ASR"}


@dataclass
class System:
    """One column: a label and a decode dir holding one folder per test set."""

    label: str
    decode_dir: Path

    @classmethod
    def parse(cls, spec: str) -> "System":
        """``LABEL=DIR`` or ``DIR`` (labelled by the folder above it, e.g. the exp dir)."""
        label, sep, path = spec.partition("=")
        if not sep:
            label, path = Path(spec).parent.name or spec, spec
        return cls(label, Path(path))

    @property
    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", self.label)


# -- inputs ----------------------------------------------------------------------------------------
def resolve(path: str, start: Path) -> Path:
    """A path from an scp file, written relative to the recipe folder it was made in: as it is, or
    below the nearest folder above ``start`` (a ``--compare`` system of another recipe folder)."""
    candidate = Path(path)
    if candidate.is_absolute() or candidate.exists():
        return candidate
    for parent in Path(start).resolve().parents:
        if (parent / candidate).exists():
            return parent / candidate
    raise FileNotFoundError(f"{path} (listed under {start}) not found")


def read_audio(path: Path) -> np.ndarray:
    wav, fs = sf.read(str(path), dtype="float32", always_2d=True)
    wav = wav.mean(axis=1)
    if fs != FS:
        import soxr

        wav = soxr.resample(wav, fs, FS).astype(np.float32)
    return wav


def read_feats(scp: Path, keys: Iterable[str]) -> Dict[str, np.ndarray]:
    """{utt: (T, n_mels)} of the wanted keys of a ``feats.scp`` (``key ark:offset`` lines)."""
    table = read_kv(scp) if scp.is_file() else {}
    out = {}
    for key in keys:
        if key in table:
            ark, _, offset = table[key].rpartition(":")
            out[key] = np.asarray(kaldiio.load_mat(f"{resolve(ark, scp.parent)}:{offset}"))
    return out


def attention_maps(decode_set: Path) -> Dict[str, Path]:
    """{utt: plots/<utt>_att.npy} that stage 6 saved (the first utterances of each inference job)."""
    return {p.name[: -len("_att.npy")]: p for p in sorted(decode_set.glob("logdir/output.*/plots/*_att.npy"))}


def mel_config_of(dump_set: Path) -> MelConfig:
    """The mel the set's models generate: a dMel recipe's tokenizer settings (``dmel.yaml`` of stage 3),
    else the recipe default."""
    conf = dump_set / "dmel.yaml"
    if conf.is_file():
        from espnet_ext.dmel.tokenizer import DMelTokenizer

        dmel_conf = yaml.safe_load(conf.read_text(encoding="utf-8"))["dmel_conf"]
        return MelConfig(**DMelTokenizer(**dmel_conf).mel_settings())
    return MelConfig()


def normalizer(lang: str):
    """The text normalisation the judge CER is computed on (Arabic: without diacritics)."""
    return (lambda t: normalize_arabic(t, remove_diacritics=True)) if lang == "ar" else normalize_english


def select_utterances(ids: Iterable[str], n: int, preferred: Iterable[str] = ()) -> List[str]:
    """n ids, the same on every run: the preferred ones (sorted) first, then the others (sorted)."""
    ids = set(ids)
    first = sorted(ids & set(preferred))
    return (first + sorted(ids - set(first)))[:n]


# -- HTML pieces ------------------------------------------------------------------------------------
def esc(text) -> str:
    return html.escape(str(text), quote=True)


def marked_transcript(ref: str, hyp: str, norm=None) -> str:
    """The hypothesis as HTML with its word errors against ``ref`` marked (jiwer's alignment):
    ``<span class="sub">`` substitutions (the reference words in the title), ``<ins>`` insertions,
    ``<del>`` deleted reference words."""
    ref_n, hyp_n = (norm(ref), norm(hyp)) if norm else (ref, hyp)
    ref_w, hyp_w = ref_n.split(), hyp_n.split()
    if not ref_w:
        return f"<ins>{esc(' '.join(hyp_w))}</ins>" if hyp_w else ""
    if not hyp_w:
        return f"<del>{esc(' '.join(ref_w))}</del>"
    out = []
    for chunk in jiwer.process_words(" ".join(ref_w), " ".join(hyp_w)).alignments[0]:
        r = " ".join(ref_w[chunk.ref_start_idx:chunk.ref_end_idx])
        h = " ".join(hyp_w[chunk.hyp_start_idx:chunk.hyp_end_idx])
        if chunk.type == "equal":
            out.append(esc(h))
        elif chunk.type == "substitute":
            out.append(f'<span class="sub" title="reference: {esc(r)}">{esc(h)}</span>')
        elif chunk.type == "insert":
            out.append(f'<ins title="inserted">{esc(h)}</ins>')
        else:
            out.append(f'<del title="deleted">{esc(r)}</del>')
    return " ".join(out)


def audio_tag(rel: Optional[str]) -> str:
    return f'<audio controls preload="metadata" src="{esc(rel)}"></audio>' if rel else '<span class="na">-</span>'


def image_tag(rel: Optional[str], alt: str, kind: str) -> str:
    return f'<a href="{esc(rel)}"><img class="{kind}" src="{esc(rel)}" alt="{esc(alt)}"></a>' if rel else ""


def figures(scores: dict, keys: Sequence[tuple]) -> str:
    """'judge CER 12.5 % · spk sim 0.812' of the (key, label, format, unit) present in ``scores``."""
    parts = [f"{label} {format(scores[key], fmt)}{unit}" for key, label, fmt, unit in keys if key in scores]
    return f'<div class="fig">{" · ".join(esc(p) for p in parts)}</div>' if parts else ""


JUDGE_FIGURES = (("judge_synth_cer", "judge CER", ".1f", " %"), ("spk_sim_target", "spk sim", ".3f", ""),
                 ("spk_sim_source", "to source", ".3f", ""))
ASR_FIGURES = (("cer", "CER", ".1f", " %"), ("wer", "WER", ".1f", " %"))

CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #1f2328; }
h1 { font-size: 1.5em; } h2 { margin-top: 2em; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; }
th, td { border: 1px solid #d0d7de; padding: 6px; vertical-align: top; text-align: left; }
th { background: #f6f8fa; position: sticky; top: 0; }
td.utt { max-width: 18em; } .id { font-family: monospace; font-size: 0.8em; color: #57606a; }
.text, .hyp { margin: 0.3em 0; } .hyp { font-family: monospace; max-width: 32em; overflow-wrap: anywhere; }
audio { width: 220px; display: block; }
img { display: block; margin-top: 4px; } img.mel { width: 320px; } img.att { width: 200px; }
.fig { font-size: 0.85em; color: #0a3069; margin-top: 3px; }
.sub { background: #fff1b8; } ins { background: #d1f7c4; } del { background: #ffd7d5; color: #82071e; }
.na, .note { color: #57606a; font-size: 0.9em; }
"""


# -- the page -------------------------------------------------------------------------------------
class SamplesPage:
    """Writes ``out/index.html``, ``out/audio/...`` and ``out/images/...``.

    dump_dir: ``dump/raw`` (per set: ``utt2category``, ``text``, ``wav.scp``, ``tgt_wav.scp`` for VC);
    systems: the columns; vocoder_file: the vocoder of the synthesis (its copy-synthesis is a column).
    """

    def __init__(self, out: Path, dump_dir: Path, systems: Sequence[System], lang: str = "en",
                 vocoder_file: Optional[str] = None, utts_per_set: int = UTTS_PER_SET, title: str = ""):
        self.out, self.dump_dir, self.systems = Path(out), Path(dump_dir), unique_labels(systems)
        self.lang, self.vocoder_file, self.n, self.title = lang, vocoder_file, utts_per_set, title
        self.norm = normalizer(lang)

    def write(self, test_sets: Sequence[str]) -> Path:
        for sub in ("audio", "images"):  # a rebuild must not keep files of an earlier selection
            shutil.rmtree(self.out / sub, ignore_errors=True)
        self.out.mkdir(parents=True, exist_ok=True)
        sections = [self.section(name) for name in sorted(test_sets, key=self.task_order)]
        page = self.out / "index.html"
        page.write_text(self.document([s for s in sections if s]), encoding="utf-8")
        return page

    def task_order(self, name: str) -> int:
        """TTS sets first, then VC, then ASR (the order of TASK_TITLES)."""
        order = list(TASK_TITLES)
        tasks = set(read_kv(self.dump_dir / name / "utt2category").values())
        return order.index(min(tasks)) if len(tasks) == 1 and tasks <= set(order) else len(order)

    # files
    def save_audio(self, rel: str, wav: np.ndarray) -> str:
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), np.clip(np.asarray(wav, dtype=np.float32), -1, 1), FS, "PCM_16")
        return rel

    def save_figure(self, rel: str, plot, *args, **kwargs) -> str:
        plot(*args, path=self.out / rel, **kwargs)
        return rel

    # sections
    def section(self, name: str) -> str:
        dump = self.dump_dir / name
        tasks = set(read_kv(dump / "utt2category").values())
        task = tasks.pop() if len(tasks) == 1 else None
        systems = [s for s in self.systems if (s.decode_dir / name).is_dir()]
        if task not in TASK_TITLES or not systems:
            logging.warning("%s: no decoding of a single task to show (task %s, systems %d)", name, task, len(systems))
            return ""
        decoded = [self.decoded_ids(s.decode_dir / name, task) for s in systems]
        common = set.intersection(*decoded)
        preferred = attention_maps(systems[0].decode_dir / name) if task == "tts" else {}
        utts = select_utterances(common, self.n, preferred)
        logging.info("%s (%s): %d of %d utterances, %d systems", name, task, len(utts), len(common), len(systems))
        rows = getattr(self, f"{task}_rows")(name, dump, systems, utts)
        head = "".join(f"<th>{esc(h)}</th>" for h in rows[0])
        body = "".join("<tr>" + "".join(row) + "</tr>\n" for row in rows[1:])
        return (f'<section id="{esc(name)}"><h2>{esc(name)}: {TASK_TITLES[task]} ({len(utts)} of {len(common)} '
                f'utterances)</h2>\n<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></section>')

    @staticmethod
    def decoded_ids(decode_set: Path, task: str) -> set:
        scp = decode_set / ("1best_recog/text" if task == "asr" else "wav.scp")
        return set(read_kv(scp)) if scp.is_file() else set()

    def utt_cell(self, utt: str, text: str) -> str:
        return f'<td class="utt"><div class="id">{esc(utt)}</div><div class="text" dir="auto">{esc(text)}</div></td>'

    def tts_rows(self, name: str, dump: Path, systems: Sequence[System], utts: List[str]) -> List[List[str]]:
        texts = read_kv(dump / "text")
        wav_scp = read_kv(dump / "wav.scp")
        real = {u: read_audio(resolve(wav_scp[u], dump)) for u in utts}
        mel = mel_config_of(dump)
        copies = {"gl": ("Griffin-Lim copy-synthesis", load_vocoder(None, **mel.to_dict()))}
        if self.vocoder_file:
            copies["vocoder"] = (f"vocoder copy-synthesis ({Path(self.vocoder_file).name})",
                                 load_vocoder(self.vocoder_file, **mel.to_dict()))
        ref_scores = read_utt_scores(systems[0].decode_dir / name)  # the references were judged with it
        head = ["utterance", "real recording"] + [label for label, _ in copies.values()]
        head += [f"{s.label}: synthesized" for s in systems]
        rows = [head]
        per_system = [(s, read_utt_scores(s.decode_dir / name), read_kv(s.decode_dir / name / "wav.scp"),
                       read_feats(s.decode_dir / name / "feats.scp", utts), attention_maps(s.decode_dir / name))
                      for s in systems]
        for utt in utts:
            scores = ref_scores.get(utt, {})
            ref_mel = log_mel(real[utt], mel)
            row = [self.utt_cell(utt, texts[utt]),
                   self.audio_cell(self.save_audio(f"audio/{name}/{utt}.real.wav", real[utt]), scores, "judge_real")]
            for kind, (_, vocoder) in copies.items():
                wav = np.asarray(vocoder(ref_mel), dtype=np.float32)
                row.append(self.audio_cell(self.save_audio(f"audio/{name}/{utt}.{kind}_copy.wav", wav), scores,
                                           f"judge_{kind}_copy"))
            for s, sys_scores, gen_scp, feats, att in per_system:
                gen = read_audio(resolve(gen_scp[utt], s.decode_dir))
                cell = self.system_cell(self.save_audio(f"audio/{name}/{s.slug}/{utt}.wav", gen),
                                        sys_scores.get(utt, {}), texts[utt])
                if utt in feats:  # a --compare system may generate at another hop: its reference mel too
                    hop = max(1, round(len(gen) / max(1, len(feats[utt]))))
                    reference = ref_mel if hop == mel.hop_length else log_mel(real[utt], replace(mel, hop_length=hop))
                    cell += self.mel_figure(f"images/{name}/{s.slug}/{utt}", s.label, feats[utt], reference, mel.fs, hop)
                if utt in att:
                    cell += self.attention_figure(f"images/{name}/{s.slug}/{utt}", s.label, att[utt])
                row.append(f"<td>{cell}</td>")
            rows.append(row)
        return rows

    def mel_figure(self, stem: str, label: str, feat: np.ndarray, reference: np.ndarray, fs: int, hop: int) -> str:
        """The generated mel (T, n_mels) above the reference mel, same colour scale; hop in samples."""
        from espnet_ext.evaluation.plots import plot_mels

        rel = self.save_figure(f"{stem}_mel.png", plot_mels, feat, reference=reference, fs=fs, hop_length=hop)
        return image_tag(rel, f"{label}: generated and reference mel", "mel")

    def attention_figure(self, stem: str, label: str, att: Path) -> str:
        from espnet_ext.evaluation.plots import plot_attention

        rel = self.save_figure(f"{stem}_att.png", plot_attention, np.load(att), title="attention")
        return image_tag(rel, f"{label}: attention", "att")

    def vc_rows(self, name: str, dump: Path, systems: Sequence[System], utts: List[str]) -> List[List[str]]:
        texts = read_kv(dump / "text")
        sources, targets = read_kv(dump / "wav.scp"), read_kv(dump / "tgt_wav.scp")
        rows = [["utterance", "source", "target speaker (reference)"] + [f"{s.label}: converted" for s in systems]]
        per_system = [(s, read_utt_scores(s.decode_dir / name), read_kv(s.decode_dir / name / "wav.scp")) for s in systems]
        for utt in utts:
            row = [self.utt_cell(utt, texts[utt]),
                   "<td>" + audio_tag(self.save_audio(f"audio/{name}/{utt}.source.wav",
                                                      read_audio(resolve(sources[utt], dump)))) + "</td>",
                   "<td>" + audio_tag(self.save_audio(f"audio/{name}/{utt}.target.wav",
                                                      read_audio(resolve(targets[utt], dump)))) + "</td>"]
            for s, sys_scores, gen_scp in per_system:
                rel = self.save_audio(f"audio/{name}/{s.slug}/{utt}.wav", read_audio(resolve(gen_scp[utt], s.decode_dir)))
                row.append(f"<td>{self.system_cell(rel, sys_scores.get(utt, {}), texts[utt])}</td>")
            rows.append(row)
        return rows

    def asr_rows(self, name: str, dump: Path, systems: Sequence[System], utts: List[str]) -> List[List[str]]:
        texts, wavs = read_kv(dump / "text"), read_kv(dump / "wav.scp")
        rows = [["utterance", "audio"] + [f"{s.label}: hypothesis" for s in systems]]
        per_system = [(read_utt_scores(s.decode_dir / name), read_kv(s.decode_dir / name / "1best_recog/text"))
                      for s in systems]
        for utt in utts:
            rel = self.save_audio(f"audio/{name}/{utt}.wav", read_audio(resolve(wavs[utt], dump)))
            row = [self.utt_cell(utt, texts[utt]), f"<td>{audio_tag(rel)}</td>"]
            for sys_scores, hyps in per_system:
                marked = marked_transcript(texts[utt], hyps.get(utt, ""), self.norm)
                row.append(f'<td><div class="hyp" dir="auto">{marked}</div>'
                           f"{figures(sys_scores.get(utt, {}), ASR_FIGURES)}</td>")
            rows.append(row)
        return rows

    def audio_cell(self, rel: str, scores: dict, key: str) -> str:
        return f"<td>{audio_tag(rel)}{figures(scores, ((f'{key}_cer', 'judge CER', '.1f', ' %'),))}</td>"

    def system_cell(self, rel: str, scores: dict, text: str) -> str:
        """Audio, its figures, and the judge's transcript with the errors marked."""
        cell = audio_tag(rel) + figures(scores, JUDGE_FIGURES)
        if "judge_synth_hyp" in scores:
            marked = marked_transcript(text, scores["judge_synth_hyp"], self.norm)
            cell += f'<div class="hyp" dir="auto" title="the judge\'s transcript">{marked}</div>'
        return cell

    def document(self, sections: List[str]) -> str:
        systems = "".join(f"<li><b>{esc(s.label)}</b>: <code>{esc(display_path(s.decode_dir))}</code></li>"
                          for s in self.systems)
        title = esc(self.title or self.out.parent.name)
        return f"""<!DOCTYPE html>
<html lang="{esc(self.lang)}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Samples: {title}</title><style>{CSS}</style></head>
<body>
<h1>Samples: {title}</h1>
<p class="note">The first {self.n} test utterances of each set by id (TTS: those with a saved attention map first),
one column per system. Figures per utterance from stage 7: judge CER (the judge ASR's transcript of
that audio), speaker similarity (d-vector cosine to the target speaker's recording). Marked words:
<span class="sub">substituted</span> (hover: the reference), <ins>inserted</ins>, <del>deleted</del>.</p>
<ul>{systems}</ul>
{"".join(sections) or '<p>No decoded test set.</p>'}
</body></html>
"""


def unique_labels(systems: Sequence[System]) -> List[System]:
    """The systems, a repeated label (hence audio folder) numbered: "a", "a (2)"."""
    out, seen = [], set()
    for s in systems:
        label, n = s.label, 1
        while System(label, s.decode_dir).slug in seen:
            n += 1
            label = f"{s.label} ({n})"
        seen.add(System(label, s.decode_dir).slug)
        out.append(System(label, s.decode_dir))
    return out


def display_path(path: Path) -> str:
    """A path as the page may show it: relative ones as they are, absolute ones by their last folders."""
    return str(path) if not path.is_absolute() else ".../" + "/".join(path.parts[-3:])
