"""Stage 3 (dMel recipes): tokenize a data dir's audio into dMel tokens, as Kaldi ark/scp.

    # published uniform bins [-7, 2], 40 Hz
    python -m espnet_ext.bin.dmel_tokenize --data dump/raw/train --frame_rate_hz 40
    # the paper's eqs 2-3: fit the bins to the training set's min/max, then reuse them
    python -m espnet_ext.bin.dmel_tokenize --data dump/raw/train --fit_bin_table data/dmel/bins.npy
    python -m espnet_ext.bin.dmel_tokenize --data dump/raw/dev --bin_table data/dmel/bins.npy

Writes ``<out>/<name>.ark`` + ``<name>.scp`` (per utterance a (T, 80) float32 matrix of bin ids,
without bos/eos frames: the model adds them) and ``<name>.yaml`` (the ``dmel_conf`` the tokens were
made with: give the model the same). Utterances are tokenized one by one (no batch padding), from
``<data>/wav.scp`` at the tokenizer's sampling rate. The scp appears only when the ark is complete.
"""
import argparse
import logging
import sys
from pathlib import Path

import kaldiio
import numpy as np
import torch
import yaml
from espnet2.fileio.sound_scp import SoundScpReader
from tqdm import tqdm

from espnet_ext.dmel.tokenizer import DMelTokenizer, MelRange, save_bin_table


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="data dir with wav.scp")
    p.add_argument("--out", default=None, help="output dir (default: --data)")
    p.add_argument("--name", default="dmel", help="output file stem: <out>/<name>.{ark,scp,yaml}")
    p.add_argument("--frame_rate_hz", type=int, default=40, help="40 (hop 25 ms) or 80 (hop 12.5 ms)")
    p.add_argument("--n_bits", type=int, default=4, help="K: 2^K bins per channel")
    table = p.add_mutually_exclusive_group()
    table.add_argument("--bin_table", default=None, help="existing (80, 2^K) .npy bin table (default: published uniform)")
    table.add_argument("--fit_bin_table", default=None, help="compute the table from this data's min/max (eqs 2-3), write it here")
    p.add_argument("--per_channel", action="store_true", help="with --fit_bin_table: one min/max per mel channel")
    p.add_argument("--device", default="cpu")
    return p


def read_audio(reader: SoundScpReader, key: str, fs: int) -> np.ndarray:
    rate, wav = reader[key]
    if rate != fs:
        raise SystemExit(f"{key}: {rate} Hz audio, the tokenizer expects {fs} Hz (format the audio first)")
    if wav.ndim != 1:
        raise SystemExit(f"{key}: {wav.shape[1]} channels, expected mono")
    return wav.astype(np.float32)


def tokenize_utterance(tokenizer: DMelTokenizer, wav: np.ndarray) -> np.ndarray:
    """(S,) float -> (S // hop + 1, n_mels) float32 bin ids."""
    x = torch.from_numpy(wav)[None].to(tokenizer.bin_table.device)
    tokens, _ = tokenizer.encode(x)
    return tokens[0].cpu().numpy().astype(np.float32)


def fit_bin_table(reader: SoundScpReader, keys, probe: DMelTokenizer, args, out_path: Path) -> Path:
    """Min / max of the data's log-mels (eq 2) -> the eq-3 table, saved as .npy."""
    mel_range = MelRange(probe.n_mels)
    for key in tqdm(keys, desc="mel range"):
        wav = torch.from_numpy(read_audio(reader, key, probe.fs))[None].to(args.device)
        mel, _ = probe.log_mel(wav)
        mel_range.update(mel[0].cpu().numpy())
    table = mel_range.table(args.n_bits, per_channel=args.per_channel)
    logging.info("bin table from data: min %.3f max %.3f -> centres %.3f .. %.3f", mel_range.lo.min(),
                 mel_range.hi.max(), table.min(), table.max())
    return save_bin_table(out_path, table)


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    data = Path(args.data)
    out = Path(args.out or data)
    out.mkdir(parents=True, exist_ok=True)
    reader = SoundScpReader(str(data / "wav.scp"), dtype="float32")
    keys = sorted(reader.data)
    bin_table = args.bin_table
    if args.fit_bin_table:
        probe = DMelTokenizer(frame_rate_hz=args.frame_rate_hz, n_bits=args.n_bits).to(args.device)
        bin_table = str(fit_bin_table(reader, keys, probe, args, Path(args.fit_bin_table)).resolve())
    elif bin_table is not None:
        bin_table = str(Path(bin_table).resolve())
    dmel_conf = dict(frame_rate_hz=args.frame_rate_hz, n_bits=args.n_bits, bin_table=bin_table)
    tokenizer = DMelTokenizer(**dmel_conf).to(args.device)
    fs = tokenizer.fs

    stem = out / args.name
    scp, tmp_scp = stem.with_suffix(".scp"), stem.with_suffix(".scp.tmp")
    scp.unlink(missing_ok=True)
    n_frames = 0
    with kaldiio.WriteHelper(f"ark,scp:{stem.with_suffix('.ark')},{tmp_scp}") as writer:
        for key in tqdm(keys, desc=f"dmel {data.name}"):
            tokens = tokenize_utterance(tokenizer, read_audio(reader, key, fs))
            n_frames += len(tokens)
            writer(key, tokens)
    tmp_scp.replace(scp)
    info = dict(dmel_conf=dmel_conf, utterances=len(keys), frames=n_frames, source=str(data / "wav.scp"))
    stem.with_suffix(".yaml").write_text(yaml.safe_dump(info, sort_keys=False), encoding="utf-8")
    logging.info("%s: %d utterances, %d frames (%.2f h at %d Hz) -> %s", data, len(keys), n_frames,
                 n_frames / args.frame_rate_hz / 3600, args.frame_rate_hz, scp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
