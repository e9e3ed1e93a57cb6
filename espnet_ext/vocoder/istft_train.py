"""ISTFT vocoder training: a plain PyTorch loop on random segments with reconstruction losses only.

``train.train_vocoder(..., vocoder_type="istft")`` dumps the features and computes the mel
statistics as for the other vocoders, then calls ``train_istft``:
1. the generator (``istft.ISTFTGenerator``) is built from ``seed`` and stores the statistics;
2. step N trains on ``batch_size`` random segments of ``segment_frames`` frames (and their
   frames * hop samples) drawn with the seed (seed, N), so a resumed run repeats an uninterrupted one;
3. loss = ``lambda_mel`` * L1 between the log10 mels of the generated and the real segment (the
   acoustic model's mel) + ``lambda_stft`` * (spectral convergence + log-magnitude L1) averaged over
   ``stft_resolutions``: STFTs other than the synthesis one are what make the predicted phases
   consistent. No discriminator: adversarial training would cost more than the generator on a CPU;
4. AdamW with linear warm-up and cosine decay, gradient norm clipped;
5. every ``save_interval_steps``: ``checkpoint-<N>steps.pth`` (model, optimizer, step) and the mel L1
   of whole validation utterances in the log. ``config.yaml`` holds every setting.
"""
import logging
import math
from collections import defaultdict
from pathlib import Path
from typing import Optional

import kaldiio
import numpy as np
import soundfile as sf
import torch
import yaml
from torch import nn
from torch.nn import functional as F
from tqdm import tqdm

from espnet_ext.vocoder.features import MelConfig, mel_frontend
from espnet_ext.vocoder.istft import CONFIG_FILE, VOCODER_TYPE, ISTFTGenerator, checkpoint_name, latest_checkpoint

STFT_POWER_FLOOR = 1e-7  # keeps log and spectral convergence finite on digital silence


def istft_config(config: dict, mel: MelConfig) -> dict:
    """Write the mel settings into ``config`` and make the generator's STFT the mel's."""
    config = {**config, "vocoder_type": VOCODER_TYPE, "mel": mel.to_dict()}
    config["generator_params"] = {
        **config.get("generator_params", {}),
        "n_mels": mel.n_mels,
        "n_fft": mel.n_fft,
        "hop_length": mel.hop_length,
        "win_length": mel.win_length,
    }
    return config


class LogMel(nn.Module):
    """Waveform (B, S) -> log10 mel (B, n_mels, S // hop + 1): ESPnet's LogMelFbank, the features
    the acoustic model predicts (``features.log_mel``), kept differentiable for the loss."""

    def __init__(self, mel: MelConfig):
        super().__init__()
        self.frontend = mel_frontend(mel)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        lengths = torch.full((wav.shape[0],), wav.shape[1], dtype=torch.long, device=wav.device)
        feats, _ = self.frontend(wav, lengths)
        return feats.transpose(1, 2)


def stft_magnitude(wav: torch.Tensor, n_fft: int, hop_length: int, win_length: int) -> torch.Tensor:
    """(B, S) -> (B, n_fft / 2 + 1, frames) magnitudes."""
    window = torch.hann_window(win_length, device=wav.device)
    spec = torch.stft(wav, n_fft, hop_length, win_length, window, center=True, return_complex=True)
    return torch.view_as_real(spec).pow(2).sum(-1).clamp(min=STFT_POWER_FLOOR).sqrt()


class ReconstructionLoss(nn.Module):
    """lambda_mel * log10-mel L1 + lambda_stft * multi-resolution (spectral convergence + log |STFT| L1)."""

    def __init__(self, mel: MelConfig, stft_resolutions: list, lambda_mel: float, lambda_stft: float):
        super().__init__()
        self.log_mel = LogMel(mel)
        self.stft_resolutions = [tuple(r) for r in stft_resolutions]  # (n_fft, hop_length, win_length)
        self.lambda_mel, self.lambda_stft = lambda_mel, lambda_stft

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> "tuple[torch.Tensor, dict]":
        """Waveforms (B, S) -> (loss, {name: float})."""
        mel_l1 = F.l1_loss(self.log_mel(fake), self.log_mel(real))
        convergence, log_magnitude = 0.0, 0.0
        for resolution in self.stft_resolutions:
            fake_mag, real_mag = stft_magnitude(fake, *resolution), stft_magnitude(real, *resolution)
            convergence = convergence + torch.linalg.norm(real_mag - fake_mag) / torch.linalg.norm(real_mag)
            log_magnitude = log_magnitude + F.l1_loss(torch.log(fake_mag), torch.log(real_mag))
        stft = (convergence + log_magnitude) / len(self.stft_resolutions)
        loss = self.lambda_mel * mel_l1 + self.lambda_stft * stft
        n = len(self.stft_resolutions)
        parts = {"loss": loss, "mel_l1": mel_l1, "spectral_convergence": convergence / n, "log_stft": log_magnitude / n}
        return loss, {name: float(value.detach()) for name, value in parts.items()}


def load_utterances(wav_scp, feats_scp, min_frames: int) -> "list[tuple[torch.Tensor, torch.Tensor]]":
    """Utterances dumped by ``train.dump_features`` with at least ``min_frames`` frames.

    -> [(log10 mel (T, n_mels), waveform (T * hop,))], in memory (the mini corpus: a few 100 MB).
    """
    feats = dict(kaldiio.load_scp(str(feats_scp)))
    utterances = []
    for line in Path(wav_scp).read_text().splitlines():
        utt, path = line.split(maxsplit=1)
        mel = feats[utt]
        if len(mel) >= min_frames:
            wav, _ = sf.read(path, dtype="float32")
            utterances.append((torch.from_numpy(np.array(mel)), torch.from_numpy(wav)))
    skipped = len(feats) - len(utterances)
    if skipped:
        logging.warning("%s: skipped %d utterance(s) shorter than %d frames", wav_scp, skipped, min_frames)
    if not utterances:
        raise ValueError(f"{wav_scp}: no utterance has {min_frames} frames (segment_frames)")
    return utterances


def sample_batch(utterances, segment_frames: int, batch_size: int, hop_length: int, rng):
    """Random aligned segments -> (mel (B, segment_frames, n_mels), wav (B, segment_frames * hop_length))."""
    mels, wavs = [], []
    for i in rng.integers(len(utterances), size=batch_size):
        mel, wav = utterances[i]
        start = int(rng.integers(len(mel) - segment_frames + 1))
        mels.append(mel[start : start + segment_frames])
        wavs.append(wav[start * hop_length : (start + segment_frames) * hop_length])
    return torch.stack(mels), torch.stack(wavs)


def lr_at(step: int, config: dict) -> float:
    """Learning rate of step ``step`` (0-based): linear warm-up, then cosine decay to ``min_lr_ratio`` * lr."""
    lr, warmup, total = config["lr"], config["warmup_steps"], config["train_max_steps"]
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    floor = config["min_lr_ratio"]
    return lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))


def train_step(generator, optimizer, loss_fn: ReconstructionLoss, mels, wavs, lr: float, grad_norm: float) -> dict:
    """One update on (mel (B, T, n_mels), wav (B, T * hop)) -> the loss values."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    loss, values = loss_fn(generator(mels), wavs)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(generator.parameters(), grad_norm)
    optimizer.step()
    return values


@torch.no_grad()
def validate(generator: ISTFTGenerator, utterances, log_mel: LogMel) -> float:
    """Mean log10-mel L1 between whole generated and real utterances."""
    generator.eval()
    errors = [F.l1_loss(log_mel(generator(mel[None])), log_mel(wav[None])).item() for mel, wav in utterances]
    generator.train()
    return float(np.mean(errors))


def save_checkpoint(out_dir: Path, generator: nn.Module, optimizer, step: int) -> Path:
    path = out_dir / checkpoint_name(step)
    partial = path.with_suffix(".tmp")  # a killed run leaves no truncated checkpoint for load_vocoder
    torch.save({"model": generator.state_dict(), "optimizer": optimizer.state_dict(), "step": step}, partial)
    partial.replace(path)
    return path


def train_istft(
    config: dict, out_dir, train_scps, valid_scps, stats: Optional[np.ndarray] = None, resume: Optional[str] = None
) -> "tuple[Path, float]":
    """Train on dumped (wav.scp, feats.scp) pairs; returns (last checkpoint, its validation mel L1).

    ``config``: ``conf/istft.yaml`` merged with overrides and fitted by ``istft_config``.
    ``stats``: (2, n_mels) mean / scale for the input normalisation (None: raw mels).
    ``resume``: a checkpoint, or a directory (its latest checkpoint).
    """
    out_dir = Path(out_dir)
    mel = MelConfig.from_dict(config["mel"])
    segment_frames, hop = config["segment_frames"], mel.hop_length
    longest = max(r[0] for r in config["stft_resolutions"] + [[mel.n_fft]])
    if segment_frames * hop <= longest // 2:
        raise ValueError(f"segment_frames * hop ({segment_frames * hop}) must exceed half the longest FFT ({longest})")
    (out_dir / CONFIG_FILE).write_text(yaml.safe_dump(config, sort_keys=False))

    torch.manual_seed(config["seed"])
    generator = ISTFTGenerator(**config["generator_params"])
    if stats is not None:
        generator.set_stats(stats)
    optimizer = torch.optim.AdamW(
        generator.parameters(), lr=config["lr"], betas=tuple(config["betas"]), weight_decay=config["weight_decay"]
    )
    step = 0
    if resume:
        start = latest_checkpoint(resume) if Path(resume).is_dir() else Path(resume)
        state = torch.load(start, map_location="cpu", weights_only=True)
        generator.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step = state["step"]
        logging.info("resumed from %s (step %d)", start, step)
    loss_fn = ReconstructionLoss(mel, config["stft_resolutions"], config["lambda_mel"], config["lambda_stft"])
    train_set = load_utterances(*train_scps, min_frames=segment_frames)
    valid_set = load_utterances(*valid_scps, min_frames=segment_frames)[: config["valid_max_utterances"]]
    logging.info("ISTFT generator: %.2fM parameters", sum(p.numel() for p in generator.parameters()) / 1e6)

    generator.train()
    checkpoint, valid_l1, running = None, float("nan"), defaultdict(float)
    with tqdm(total=config["train_max_steps"], initial=step, desc="istft", mininterval=10) as bar:
        while step < config["train_max_steps"]:
            rng = np.random.default_rng([config["seed"], step])
            mels, wavs = sample_batch(train_set, segment_frames, config["batch_size"], hop, rng)
            losses = train_step(generator, optimizer, loss_fn, mels, wavs, lr_at(step, config), config["grad_norm"])
            step += 1
            bar.update(1)
            for name, value in losses.items():
                running[name] += value
            if step % config["log_interval_steps"] == 0:
                n = config["log_interval_steps"]
                logging.info("step %d: %s", step, ", ".join(f"{k} {v / n:.4f}" for k, v in running.items()))
                running.clear()
            if step % config["save_interval_steps"] == 0 or step == config["train_max_steps"]:
                checkpoint = save_checkpoint(out_dir, generator, optimizer, step)
                valid_l1 = validate(generator, valid_set, loss_fn.log_mel)
                logging.info("step %d: valid mel L1 %.4f, saved %s", step, valid_l1, checkpoint.name)
    if checkpoint is None:  # nothing left to train (resumed at the last step, or train_max_steps 0)
        checkpoint = save_checkpoint(out_dir, generator, optimizer, step)
        valid_l1 = validate(generator, valid_set, loss_fn.log_mel)
    return checkpoint, valid_l1
