"""Vocoder training on our own mel features: parallel_wavegan's trainer, or our ISTFT vocoder's.

Steps (``train_vocoder``):
1. features: every utterance of a Kaldi-style data dir (``wav.scp``) is read, resampled to
   ``mel.fs``, turned into the acoustic model's log10 mel (``features.log_mel``) and dumped as a
   16-bit wav padded to frames * hop samples plus a Kaldi ark of features;
2. statistics: with ``normalize=True`` the per-channel mean / std of the training mels: for
   parallel_wavegan saved as ``stats.npy`` beside the checkpoints and the dumped features are
   normalised with them (the generator then stores them and ``load_vocoder`` normalises its input
   the same way); the ISTFT generator keeps them as buffers and normalises its input itself;
3. config: a base YAML (``conf/<vocoder_type>.yaml``) + overrides, with the mel settings (and for
   parallel_wavegan the mel loss settings and upsampling factors) made consistent with ``mel``;
4. training: parallel_wavegan's ``train`` entry point, in this process, writing
   ``checkpoint-<N>steps.pkl`` and ``config.yml`` into ``out_dir``; or for ``istft``
   ``istft_train.train_istft``, writing ``checkpoint-<N>steps.pth`` and ``config.yaml`` -- what
   ``load_vocoder`` reads -- and ``train_summary.yaml`` (data sizes, wall-clock training seconds)
   for RESULTS.md.
"""
import copy
import logging
import sys
import time
from pathlib import Path
from typing import Optional, Union

import kaldiio
import numpy as np
import soundfile as sf
import yaml

from espnet_ext.audio.format import load_mono
from espnet_ext.corpora.data_dir import read_kv
from espnet_ext.vocoder import istft_train
from espnet_ext.vocoder.features import MelConfig, log_mel
from espnet_ext.vocoder.parallel_wavegan import import_parallel_wavegan, latest_checkpoint, pwg_mel_settings

CONF_DIR = Path(__file__).parent / "conf"
VOCODER_TYPES = ("hifigan", "parallel_wavegan", "istft")
STATS_FILE = "stats.npy"  # rows: mean, scale (parallel_wavegan's npy stats layout)
SUMMARY_FILE = "train_summary.yaml"  # what was trained, on how much data, in how many seconds
MAX_UPSAMPLE_STAGES = 4


def base_config(vocoder_type: str) -> dict:
    if vocoder_type not in VOCODER_TYPES:
        raise ValueError(f"vocoder_type must be one of {VOCODER_TYPES}, not {vocoder_type!r}")
    return yaml.safe_load((CONF_DIR / f"{vocoder_type}.yaml").read_text())


def deep_update(config: dict, overrides: dict) -> dict:
    """A copy of ``config`` with ``overrides`` merged in (nested dicts merged key by key)."""
    out = copy.deepcopy(config)
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_update(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def upsample_factors(hop_length: int, stages: int = MAX_UPSAMPLE_STAGES) -> list:
    """Split ``hop_length`` into ``stages`` balanced integer factors, largest first.

    400 -> [5, 5, 4, 4], 200 -> [5, 5, 4, 2], 256 -> [4, 4, 4, 4].
    """
    primes, n, p = [], hop_length, 2
    while n > 1:
        while n % p == 0:
            primes.append(p)
            n //= p
        p += 1
    factors = [1] * stages
    for prime in sorted(primes, reverse=True):
        factors[int(np.argmin(factors))] *= prime
    return sorted((f for f in factors if f > 1), reverse=True)


def fit_config_to_mel(config: dict, mel: MelConfig) -> dict:
    """Write the mel settings into ``config`` and make the generator's upsampling equal the hop."""
    config = deep_update(config, pwg_mel_settings(mel))
    config["window"] = "hann"
    gen = config["generator_params"]
    if config["generator_type"] == "HiFiGANGenerator":
        gen["in_channels"] = mel.n_mels
        if int(np.prod(gen["upsample_scales"])) != mel.hop_length:
            gen["upsample_scales"] = upsample_factors(mel.hop_length)
            gen["upsample_kernel_sizes"] = [2 * s for s in gen["upsample_scales"]]
    else:
        gen["aux_channels"] = mel.n_mels
        scales = gen.setdefault("upsample_params", {}).get("upsample_scales", [])
        if int(np.prod(scales)) != mel.hop_length:
            gen["upsample_params"]["upsample_scales"] = upsample_factors(mel.hop_length)
    if config.get("use_mel_loss"):
        config["mel_loss_params"] = {
            "fs": mel.fs,
            "fft_size": mel.n_fft,
            "hop_size": mel.hop_length,
            "win_length": mel.win_length,
            "window": "hann",
            "num_mels": mel.n_mels,
            "fmin": mel.fmin,
            "fmax": mel.fmax,
            "log_base": 10.0,
        }
    # Training segments must hold whole frames.
    config["batch_max_steps"] -= config["batch_max_steps"] % mel.hop_length
    return config


def dump_features(data_dir, dump_dir, mel: MelConfig, utt_ids=None) -> "tuple[Path, Path]":
    """Dump ``data_dir`` (or its ``utt_ids``) as 16-bit wavs + log10 mels; returns (wav.scp, feats.scp).

    The waveform is zero-padded / cut to exactly frames * hop samples (the pairing the trainer
    expects).
    """
    dump_dir = Path(dump_dir)
    (dump_dir / "wav").mkdir(parents=True, exist_ok=True)
    wavs = read_kv(Path(data_dir) / "wav.scp")
    utt_ids = sorted(wavs) if utt_ids is None else list(utt_ids)
    wav_lines = []
    with kaldiio.WriteHelper(f"ark,scp:{dump_dir / 'feats.ark'},{dump_dir / 'feats.scp'}") as writer:
        for utt in utt_ids:
            src = wavs[utt]
            if src.rstrip().endswith("|"):
                raise ValueError(f"{data_dir}/wav.scp: pipes are not supported ({utt}); run stage 2 first")
            wav, _ = load_mono(src, mel.fs)
            feats = log_mel(wav, mel)
            wav = np.pad(wav, (0, max(0, len(feats) * mel.hop_length - len(wav))))[: len(feats) * mel.hop_length]
            path = dump_dir / "wav" / f"{utt}.wav"
            sf.write(str(path), np.clip(wav, -1.0, 1.0), mel.fs, subtype="PCM_16")
            wav_lines.append(f"{utt} {path.resolve()}\n")
            writer(utt, feats.astype(np.float32))
    (dump_dir / "wav.scp").write_text("".join(wav_lines))
    return dump_dir / "wav.scp", dump_dir / "feats.scp"


def feature_stats(feats_scp) -> np.ndarray:
    """Per-channel (mean, std) over all frames of a feats.scp -> (2, n_mels)."""
    feats = np.concatenate([m for _, m in kaldiio.load_scp_sequential(str(feats_scp))])
    return np.stack([feats.mean(axis=0), np.maximum(feats.std(axis=0), 1e-5)]).astype(np.float32)


def normalize_features(feats_scp, stats: np.ndarray) -> Path:
    """Write ``feats_norm.{ark,scp}`` beside ``feats_scp`` with (mel - mean) / scale; returns the scp."""
    folder = Path(feats_scp).parent
    with kaldiio.WriteHelper(f"ark,scp:{folder / 'feats_norm.ark'},{folder / 'feats_norm.scp'}") as writer:
        for utt, feats in kaldiio.load_scp_sequential(str(feats_scp)):
            writer(utt, ((feats - stats[0]) / stats[1]).astype(np.float32))
    return folder / "feats_norm.scp"


def split_valid(utt_ids: list, n_valid: int) -> "tuple[list, list]":
    """Hold out the last ``n_valid`` utterances (at least one stays for training)."""
    if len(utt_ids) < 2:
        logging.warning("only %d utterance(s): validating on the training data", len(utt_ids))
        return utt_ids, utt_ids
    n_valid = min(max(1, n_valid), len(utt_ids) - 1)
    return utt_ids[:-n_valid], utt_ids[-n_valid:]


def run_parallel_wavegan_train(config_path, out_dir, train_scps, valid_scps, resume: str = "") -> None:
    """parallel_wavegan's ``train`` entry point, in this process (after the scipy shim)."""
    import_parallel_wavegan()
    from parallel_wavegan.bin import train as pwg_train

    argv = [
        "parallel-wavegan-train",
        "--config", str(config_path),
        "--outdir", str(out_dir),
        "--train-wav-scp", str(train_scps[0]),
        "--train-feats-scp", str(train_scps[1]),
        "--dev-wav-scp", str(valid_scps[0]),
        "--dev-feats-scp", str(valid_scps[1]),
        "--resume", resume,
    ]  # fmt: skip
    saved = sys.argv
    sys.argv = argv
    try:
        pwg_train.main()
    finally:
        sys.argv = saved


def prepare_data(train_dir, out_dir: Path, valid_dir, mel: MelConfig, n_valid: int):
    """Dump train / valid features into ``out_dir/dump`` -> (train ids, valid ids, train scps, valid scps).

    Without ``valid_dir`` the last ``n_valid`` training utterances are held out.
    """
    train_ids = sorted(read_kv(Path(train_dir) / "wav.scp"))
    if valid_dir is None:
        train_ids, valid_ids = split_valid(train_ids, n_valid)
        valid_dir = train_dir
    else:
        valid_ids = sorted(read_kv(Path(valid_dir) / "wav.scp"))
    train_scps = dump_features(train_dir, out_dir / "dump" / "train", mel, train_ids)
    valid_scps = dump_features(valid_dir, out_dir / "dump" / "valid", mel, valid_ids)
    return train_ids, valid_ids, train_scps, valid_scps


def train_vocoder(
    train_dir,
    out_dir,
    valid_dir=None,
    vocoder_type: str = "hifigan",
    mel: MelConfig = MelConfig(),
    config: Union[str, Path, dict, None] = None,
    normalize: bool = True,
    n_valid: int = 5,
    resume: Optional[str] = None,
) -> Path:
    """Train a vocoder on ``train_dir`` (Kaldi-style, ``wav.scp``); returns the last checkpoint.

    ``config``: a YAML path or dict merged over the base config of ``vocoder_type`` (e.g.
    ``{"train_max_steps": 100000, "batch_size": 8}``). Without ``valid_dir`` the last ``n_valid``
    training utterances are held out. ``resume``: a checkpoint (for ``istft`` also a directory:
    its latest checkpoint).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    overrides = yaml.safe_load(Path(config).read_text()) if isinstance(config, (str, Path)) else config
    merged = deep_update(base_config(vocoder_type), overrides or {})
    final = istft_train.istft_config(merged, mel) if vocoder_type == "istft" else fit_config_to_mel(merged, mel)
    train_ids, valid_ids, train_scps, valid_scps = prepare_data(train_dir, out_dir, valid_dir, mel, n_valid)
    stats = feature_stats(train_scps[1]) if normalize else None
    logging.info("training %s on %d utterances, validating on %d", vocoder_type, len(train_ids), len(valid_ids))
    extra = {}  # per-trainer figures for the summary
    start = time.time()
    if vocoder_type == "istft":
        checkpoint, extra["valid_mel_l1"] = istft_train.train_istft(
            final, out_dir, train_scps, valid_scps, stats, resume
        )
    else:
        if normalize:
            np.save(out_dir / STATS_FILE, stats)
            train_scps = (train_scps[0], normalize_features(train_scps[1], stats))
            valid_scps = (valid_scps[0], normalize_features(valid_scps[1], stats))
        elif (out_dir / STATS_FILE).exists():
            (out_dir / STATS_FILE).unlink()  # a stale file would make load_vocoder normalise
        config_path = out_dir / "train_config.yaml"
        config_path.write_text(yaml.safe_dump(final, sort_keys=False))
        run_parallel_wavegan_train(config_path, out_dir, train_scps, valid_scps, resume or "")
        checkpoint = latest_checkpoint(out_dir)
    summary = {
        "vocoder_type": vocoder_type,
        "checkpoint": checkpoint.name,
        "train_seconds": round(time.time() - start, 1),  # this run only (not earlier runs when resuming)
        "train_utterances": len(train_ids),
        "valid_utterances": len(valid_ids),
        "normalize": normalize,
        "mel": mel.to_dict(),
        **extra,
    }
    (out_dir / SUMMARY_FILE).write_text(yaml.safe_dump(summary, sort_keys=False))
    return checkpoint
