"""SpeechT5: shared encoder-decoder with speech/text pre-nets and post-nets (Ao et al., 2022).

All tensors are batch-first; padding masks are bool with True = padding. The CTC head is not part
of the backbone (the STTATTS model owns it). Submodule names are the checkpoint names.
"""
from __future__ import annotations

from collections.abc import Collection

import torch
from torch import nn

from espnet_ext.speecht5.config import SpeechT5Config
from espnet_ext.speecht5.decoder import Decoder, DecoderCache
from espnet_ext.speecht5.encoder import Encoder
from espnet_ext.speecht5.speech_decoder_nets import SpeechDecoderPostnet, SpeechDecoderPrenet
from espnet_ext.speecht5.speech_encoder_prenet import SpeechEncoderPrenet
from espnet_ext.speecht5.text_nets import TextDecoderPostnet, TextDecoderPrenet, TextEncoderPrenet


def lengths_to_pad_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """(B,) lengths -> (B, max_len) bool, True = padding."""
    return torch.arange(max_len, device=lengths.device)[None, :] >= lengths[:, None]


class SpeechT5(nn.Module):
    """The SpeechT5 backbone: one encoder and one decoder, entered and left through modal pre/post-nets."""

    def __init__(self, cfg: SpeechT5Config | dict):
        super().__init__()
        cfg = SpeechT5Config.from_dict(cfg) if isinstance(cfg, dict) else cfg
        self.cfg = cfg
        # one embedding for the text encoder pre-net, text decoder pre-net and (tied) post-net
        embed_tokens = nn.Embedding(cfg.vocab_size, cfg.d_model, padding_idx=cfg.pad_id)
        nn.init.normal_(embed_tokens.weight, mean=0.0, std=cfg.d_model**-0.5)
        with torch.no_grad():
            embed_tokens.weight[cfg.pad_id].zero_()

        self.speech_encoder_prenet = SpeechEncoderPrenet(cfg)
        self.text_encoder_prenet = TextEncoderPrenet(cfg, embed_tokens)
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        self.text_decoder_prenet = TextDecoderPrenet(cfg, embed_tokens)
        self.text_decoder_postnet = TextDecoderPostnet(cfg, embed_tokens)
        self.speech_decoder_prenet = SpeechDecoderPrenet(cfg)
        self.speech_decoder_postnet = SpeechDecoderPostnet(cfg)
        for conv in self.speech_encoder_prenet.feature_extractor.modules():
            if isinstance(conv, nn.Conv1d):
                nn.init.kaiming_normal_(conv.weight)

    # ---------------------------------------------------------------- encoder side
    def encoder_prenet_speech(
        self, wav: torch.Tensor, wav_lengths: torch.Tensor, unpadded: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """wav (B, S) 16 kHz samples, wav_lengths (B,) -> x (B, T, D), pad_mask (B, T); T ~ S / 320.
        `unpadded`: every row as if alone (see SpeechEncoderPrenet.forward)."""
        return self.speech_encoder_prenet(wav, wav_lengths, unpadded)

    def encoder_prenet_text(self, tokens: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """tokens (B, L) long (any value past `lengths`, e.g. -1), lengths (B,) -> x (B, L, D), pad_mask (B, L)."""
        pad_mask = lengths_to_pad_mask(lengths, tokens.size(1))
        tokens = tokens.masked_fill(pad_mask, self.cfg.pad_id)
        return self.text_encoder_prenet(tokens), pad_mask

    def run_encoder(self, x: torch.Tensor, pad_mask: torch.Tensor) -> torch.Tensor:
        """Pre-net output x (B, T, D), pad_mask (B, T) -> encoder output (B, T, D)."""
        return self.encoder(x, pad_mask)

    def encode_speech(self, wav: torch.Tensor, wav_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Speech encoder pre-net + encoder: (B, S) samples -> (B, T, D), pad_mask (B, T)."""
        x, pad_mask = self.encoder_prenet_speech(wav, wav_lengths)
        return self.run_encoder(x, pad_mask), pad_mask

    def encode_text(self, tokens: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Text encoder pre-net + encoder: (B, L) tokens -> (B, L, D), pad_mask (B, L)."""
        x, pad_mask = self.encoder_prenet_text(tokens, lengths)
        return self.run_encoder(x, pad_mask), pad_mask

    # ---------------------------------------------------------------- decoder side
    def new_cache(self, share_cross: bool = False) -> DecoderCache:
        """An empty cache to start incremental decoding (text or speech); `share_cross`: the
        decoder batch holds several rows per memory row (see DecoderCache)."""
        return self.decoder.new_cache(share_cross)

    def decode_text(
        self,
        prev_tokens: torch.Tensor,
        memory: torch.Tensor,
        memory_pad_mask: torch.Tensor,
        cache: DecoderCache | None = None,
        need_cross_attn: bool | Collection[int] = True,
    ) -> tuple[torch.Tensor, list[torch.Tensor], DecoderCache | None]:
        """Text decoder pre-net + decoder + tied output projection.

        Args:
            prev_tokens: (B, U) long, the shifted target starting with eos (= SpeechT5's decoder
                start); negative ids (padding) are read as pad_id. With a cache, only the new
                position(s).
            memory, memory_pad_mask: (B, T, D), (B, T) True = padding.
            cache: None (teacher forcing) or a DecoderCache (updated in place and returned).
            need_cross_attn: True (all layers), False (none: fused attention everywhere, fastest)
                or the layer indices whose cross-attention is returned (None for the others).
        Returns:
            logits (B, U, V), per-layer cross-attention (B, H, U, T) (empty if not needed), cache.
        """
        offset = 0 if cache is None else cache.length
        prev_tokens = prev_tokens.masked_fill(prev_tokens < 0, self.cfg.pad_id)
        x = self.text_decoder_prenet(prev_tokens, offset)
        h, cross_attn = self.decoder(x, memory, memory_pad_mask, cache, need_cross_attn)
        return self.text_decoder_postnet(h), cross_attn, cache

    def decode_speech(
        self,
        prev_mel: torch.Tensor,
        spembs: torch.Tensor | None,
        memory: torch.Tensor,
        memory_pad_mask: torch.Tensor,
        cache: DecoderCache | None = None,
        need_cross_attn: bool | Collection[int] = True,
        run_postnet: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor, list[torch.Tensor], DecoderCache | None]:
        """Speech decoder pre-net + decoder + speech post-net.

        Args:
            prev_mel: (B, U, n_mels) reduction-factor-subsampled target shifted right (zero frame
                first); with a cache, only the new frame(s).
            spembs: (B, spk_embed_dim) speaker embeddings (L2-normalised inside) or None.
            need_cross_attn: as in decode_text (e.g. only the layers a guided attention loss reads).
            run_postnet: False skips the conv postnet (inference runs it once at the end).
        Returns:
            feat_before (B, U*r, n_mels), feat_after (same, None if not run_postnet),
            stop_logits (B, U*r), per-layer cross-attention (B, H, U, T), cache.
        """
        offset = 0 if cache is None else cache.length
        x = self.speech_decoder_prenet(prev_mel, spembs, offset)
        h, cross_attn = self.decoder(x, memory, memory_pad_mask, cache, need_cross_attn)
        before, stop = self.speech_decoder_postnet.frames(h)
        after = self.speech_decoder_postnet.postnet(before) if run_postnet else None
        return before, after, stop, cross_attn, cache
