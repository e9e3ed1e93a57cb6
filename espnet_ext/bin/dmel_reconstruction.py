"""The dMel reconstruction check (the paper's Tables 1 and 3 in miniature): how much does
discretizing the log-mel cost, compared with the mel itself, through the same vocoder and judge?

    python -m espnet_ext.bin.dmel_reconstruction --data dump/raw/test_asr_test_clean \
        --judge espnet:exp/judge_asr_mini/config.yaml,exp/judge_asr_mini/valid.acc.ave.pth \
        --out exp/dmel_mini/reconstruction/test_asr_test_clean [--frame_rates 40 80] \
        [--vocoder_file exp/vocoder/checkpoint-50000steps.pkl] [--max_utts 300]

For every utterance and every frame rate R (Hz), with the dMel tokenizer's mel settings (16 kHz,
n_fft 1024, window 50 ms, hop 1/R s, 80 Slaney mels 80-7600 Hz, log10):

- ``mel``: the log10 mel at R Hz -> vocoder;
- ``dMel``: the same mel discretized into 2^K bins and detokenized (eqs 4-5) -> vocoder;

and the real recording. The same judge ASR transcribes every waveform: its WER / CER, MCD-DTW to
the recording (on WORLD mel cepstra, and on the 80-band mel the vocoder inverts; see
``espnet_ext.evaluation.mcd``), and the mean absolute quantization error |mel - dMel| (log10 units)
form the table.
Vocoders: Griffin-Lim always, plus ``--vocoder_file`` (a trained vocoder fits one hop only; the
other rates are listed as skipped, with the reason).

dMel tokens come from ``<data>/dmel<R>.scp`` when stage 3 wrote them (``dmel<R>.yaml`` gives the
tokenizer they were made with), else they are computed here with the published uniform bins.
Writes ``<out>/score.json``, the first ``--save_wavs`` waveforms of every condition under
``<out>/wav/<condition>/`` and one mel-vs-dMel figure per rate under ``--images``.
"""
import argparse
import json
import logging
import random
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional

import kaldiio
import numpy as np
import soundfile as sf
import torch
import yaml

from espnet_ext.bin.score_sttatts import FS, judge_cer
from espnet_ext.corpora.data_dir import read_kv
from espnet_ext.dmel.tokenizer import DMelTokenizer
from espnet_ext.evaluation.mcd import mean_mcd
from espnet_ext.vocoder import load_vocoder

GRIFFIN_LIM = "griffin_lim"


@dataclass
class Row:
    """One line of the reconstruction table (rates in Hz; error rates in %; MCD in dB)."""

    input: str  # "ground truth", "mel" or "dMel"
    frame_rate_hz: Optional[int] = None
    vocoder: str = "-"
    utts: int = 0
    wer: Optional[float] = None
    cer: Optional[float] = None
    mcd_dtw_db: Optional[float] = None  # on WORLD mel cepstra
    mcd_mel80_dtw_db: Optional[float] = None  # on the 80-band log-mel the vocoder inverts
    quantization_error: Optional[float] = None  # mean |mel - detokenized dMel|, log10 units
    skipped: str = ""  # why this condition has no figures


def load_tokens(data: Path, name: str):
    """``<data>/<name>.{scp,yaml}`` (written by ``dmel_tokenize``) -> (DMelTokenizer, {utt: tokens (T, 80) long}),
    or None when they are not there."""
    scp, conf = data / f"{name}.scp", data / f"{name}.yaml"
    if not (scp.is_file() and conf.is_file()):
        return None
    dmel_conf = yaml.safe_load(conf.read_text(encoding="utf-8"))["dmel_conf"]
    # np.array copies: kaldiio's arrays are read-only views of the ark.
    tokens = {k: torch.from_numpy(np.array(v)).round().long() for k, v in kaldiio.load_scp(str(scp)).items()}
    return DMelTokenizer(**dmel_conf), tokens


def tokenizer_and_tokens(data: Path, frame_rate_hz: int, n_bits: int = 4):
    """(DMelTokenizer, tokens or None) of ``<data>/dmel<R>``; without them, the published bins and
    tokens made on the fly."""
    found = load_tokens(data, f"dmel{frame_rate_hz}")
    if found is not None:
        return found
    logging.info("%s/dmel%d.scp not found: tokenizing with the published bins", data, frame_rate_hz)
    return DMelTokenizer(frame_rate_hz=frame_rate_hz, n_bits=n_bits), None


def mel_and_dmel(wav: np.ndarray, tokenizer: DMelTokenizer, tokens: Optional[torch.Tensor] = None):
    """Waveform (S,) -> log10 mel (T, 80) and the detokenized dMel (T, 80), both float32 tensors."""
    mel = tokenizer.log_mel(torch.from_numpy(np.asarray(wav, dtype=np.float32))[None])[0][0]
    if tokens is None:
        tokens = tokenizer.discretize(mel)
    if tokens.shape != mel.shape:
        raise ValueError(f"tokens {tuple(tokens.shape)} do not match the mel {tuple(mel.shape)}: "
                         "made with other tokenizer settings?")
    return mel, tokenizer.decode(tokens)


def copy_synthesis(wavs: Dict[str, np.ndarray], tokenizer: DMelTokenizer, vocoder, discretize: bool,
                   tokens: Optional[Dict[str, torch.Tensor]] = None) -> Dict[str, np.ndarray]:
    """{utt: waveform} -> {utt: vocoder(mel)} or {utt: vocoder(detokenized dMel)}."""
    out = {}
    for key, wav in wavs.items():
        mel, dmel = mel_and_dmel(wav, tokenizer, None if tokens is None else tokens[key])
        out[key] = vocoder(dmel if discretize else mel)
    return out


def _vocoder(path: Optional[str], tokenizer: DMelTokenizer):
    """(vocoder, its label) for the tokenizer's mel settings; raises ValueError if it cannot fit them."""
    vocoder = load_vocoder(path, **tokenizer.mel_settings())
    return vocoder, GRIFFIN_LIM if path is None else f"{vocoder.name}:{Path(path).name}"


def _scored(row: Row, judge, wavs: dict, refs: dict, real: dict, lang: str) -> Row:
    row.utts = len(wavs)
    if judge is not None:
        score = judge_cer(judge, wavs, refs, lang)
        row.cer, row.wer = score["cer"], score["wer"]
    if row.input != "ground truth":
        row.mcd_dtw_db = mean_mcd(real, wavs, FS)
        row.mcd_mel80_dtw_db = mean_mcd(real, wavs, FS, "mel")
    return row


def _save_wavs(wavs: dict, folder: Path, n: int) -> None:
    if n <= 0:
        return
    folder.mkdir(parents=True, exist_ok=True)
    for key in sorted(wavs)[:n]:
        sf.write(folder / f"{key}.wav", wavs[key], FS, subtype="PCM_16")


def reconstruction_check(data, judge, lang: str = "en", frame_rates=(40, 80), vocoder_files=(), max_utts: int = 0,
                         out=None, images=None, save_wavs: int = 3) -> dict:
    """Run the check on a dump dir (wav.scp, text at 16 kHz); returns the score.json content."""
    data = Path(data)
    wav_scp = read_kv(data / "wav.scp")
    keys = sorted(wav_scp)
    if 0 < max_utts < len(keys):  # a fixed random sample, as the paper's 300 of test-clean
        keys = sorted(random.Random(0).sample(keys, max_utts))
    real = {k: sf.read(wav_scp[k], dtype="float32")[0] for k in keys}
    refs = read_kv(data / "text")
    rows: List[Row] = [_scored(Row("ground truth"), judge, real, refs, real, lang)]
    for rate in frame_rates:
        tokenizer, tokens = tokenizer_and_tokens(data, int(rate))
        pairs = (mel_and_dmel(real[k], tokenizer, None if tokens is None else tokens[k]) for k in keys)
        errors = [float((mel - dmel).abs().mean()) for mel, dmel in pairs]
        for path in [None, *vocoder_files]:
            try:
                vocoder, label = _vocoder(path, tokenizer)
            except ValueError as err:  # a trained vocoder made for another hop
                for name in ("mel", "dMel"):
                    rows.append(Row(name, int(rate), f"{Path(path).name}", skipped=str(err)))
                logging.warning("%s at %d Hz skipped: %s", path, rate, err)
                continue
            for name, discretize in (("mel", False), ("dMel", True)):
                wavs = copy_synthesis(real, tokenizer, vocoder, discretize, tokens)
                row = _scored(Row(name, int(rate), label), judge, wavs, refs, real, lang)
                if discretize:
                    row.quantization_error = float(np.mean(errors))
                rows.append(row)
                if out is not None:
                    _save_wavs(wavs, Path(out) / "wav" / f"{name}_{rate}hz_{label.replace(':', '_')}", save_wavs)
                logging.info("%s %d Hz %s: CER %s", name, rate, label, "-" if row.cer is None else f"{row.cer:.1f}")
        if images is not None and keys:
            from espnet_ext.evaluation.plots import plot_mels

            mel, dmel = mel_and_dmel(real[keys[0]], tokenizer, None if tokens is None else tokens[keys[0]])
            plot_mels(dmel, Path(images) / f"reconstruction_{data.name}_{rate}hz.png", reference=mel,
                      hop_length=tokenizer.hop_length,
                      title=f"{keys[0]} {rate} Hz, dMel (generated) vs mel (reference):")
    result = {"set": data.name, "utts": len(keys), "judge": judge.name if judge is not None else "",
              "rows": [asdict(r) for r in rows]}
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "score.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


def markdown_table(result: dict) -> List[str]:
    """The reconstruction table of one set, as RESULTS.md lines."""
    fmt = lambda v, spec: "-" if v is None else format(v, spec)  # noqa: E731
    lines = [f"Set `{result['set']}`, {result['utts']} utterances, judge `{result['judge'] or 'none'}`.", "",
             "| input | frame rate | vocoder | judge CER % | judge WER % | MCD-DTW dB to the recording "
             "| MCD-DTW dB (80-band mel) | mean abs quantization error (log10) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        rate = "-" if r["frame_rate_hz"] is None else f"{r['frame_rate_hz']} Hz"
        if r["skipped"]:
            lines.append(f"| {r['input']} | {rate} | {r['vocoder']} | skipped: {r['skipped']} | | | | |")
            continue
        lines.append(f"| {r['input']} | {rate} | {r['vocoder']} | {fmt(r['cer'], '.1f')} | {fmt(r['wer'], '.1f')} | "
                     f"{fmt(r['mcd_dtw_db'], '.2f')} | {fmt(r.get('mcd_mel80_dtw_db'), '.2f')} | "
                     f"{fmt(r['quantization_error'], '.3f')} |")
    return lines


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="dump dir: wav.scp (16 kHz), text, optionally dmel<R>.{scp,yaml}")
    p.add_argument("--judge", required=True, help="judge ASR (espnet_ext.evaluation.judge.build_judge spec)")
    p.add_argument("--out", required=True, help="output folder (score.json, wav/)")
    p.add_argument("--images", default=None, help="folder for the mel-vs-dMel figures (default: <out>)")
    p.add_argument("--lang", default="en", choices=("en", "ar"))
    p.add_argument("--frame_rates", type=int, nargs="+", default=[40, 80], help="Hz")
    p.add_argument("--vocoder_file", action="append", default=[],
                   help="a trained vocoder (repeatable); Griffin-Lim always runs")
    p.add_argument("--max_utts", type=int, default=0, help="a fixed random sample of N utterances; 0 = all")
    p.add_argument("--save_wavs", type=int, default=3, help="waveforms kept per condition")
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    from espnet_ext.evaluation.judge import build_judge

    result = reconstruction_check(args.data, build_judge(args.judge), args.lang, args.frame_rates, args.vocoder_file,
                                  args.max_utts, args.out, args.images or args.out, args.save_wavs)
    print("\n".join(markdown_table(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
