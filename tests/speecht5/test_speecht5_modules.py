"""Behaviour of the backbone's pieces: positions, masks, masking, dropout flags, tying, training."""
import pytest
import torch

from espnet_ext.speecht5 import SpeechT5, SpeechT5Config
from espnet_ext.speecht5.positions import RelativePositionBias, make_positions
from espnet_ext.speecht5.speech_encoder_prenet import span_mask

TINY = dict(
    vocab_size=30, d_model=32, encoder_layers=2, decoder_layers=1, attention_heads=4, ffn_dim=64,
    conv_dim=(16, 16, 16), conv_kernel=(10, 3, 3), conv_stride=(5, 2, 2), pos_conv_kernel=8, pos_conv_groups=4,
    max_relative_position=4, speech_decoder_prenet_units=16, spk_embed_dim=8, postnet_units=16,
)


def tiny(**overrides):
    torch.manual_seed(0)
    return SpeechT5(SpeechT5Config(**{**TINY, **overrides}))


def test_config_round_trips_through_a_plain_dict_and_rejects_unknown_keys():
    cfg = SpeechT5Config(**TINY)
    d = cfg.to_dict()
    assert d["conv_stride"] == [5, 2, 2]  # lists, for YAML
    assert SpeechT5Config.from_dict(d) == cfg
    assert SpeechT5Config().samples_per_frame == 320 and SpeechT5Config().head_dim == 64
    with pytest.raises(ValueError, match="d_modle"):
        SpeechT5Config.from_dict({"d_modle": 3})


def test_text_embedding_is_one_tensor_shared_by_three_nets():
    model = tiny()
    w = model.text_encoder_prenet.embed_tokens.weight
    assert model.text_decoder_prenet.embed_tokens.weight is w
    assert model.text_decoder_postnet.output_projection.weight is w
    # three names in the state dict (what checkpoints hold), one parameter to train and count
    assert [k for k, v in model.state_dict().items() if v.data_ptr() == w.data_ptr()] == [
        "text_encoder_prenet.embed_tokens.weight",
        "text_decoder_prenet.embed_tokens.weight",
        "text_decoder_postnet.output_projection.weight",
    ]
    assert [n for n, p in model.named_parameters() if p is w] == ["text_encoder_prenet.embed_tokens.weight"]


def test_relative_position_bias_equals_the_formula_with_clipped_distances():
    torch.manual_seed(0)
    bias_module = RelativePositionBias(head_dim=8, max_relative_position=3)
    q = torch.randn(2, 4, 10, 8)
    got = bias_module(q)
    for i in range(10):
        for j in range(10):
            idx = min(max(i - j, -3), 2) + 3  # distances clipped to [-M, M-1]
            want = q[:, :, i] @ bias_module.pe_k.weight[idx]
            assert torch.allclose(got[:, :, i, j], want, atol=1e-6)


def test_fairseq_positions_start_after_the_padding_index():
    is_real = torch.tensor([[True, True, True], [True, False, False]])
    assert make_positions(is_real, padding_idx=1).tolist() == [[2, 3, 4], [2, 1, 1]]
    assert make_positions(is_real[:, :1], padding_idx=1, offset=5).tolist() == [[7], [7]]


@pytest.mark.parametrize("mode,valid_frames", [("conv_lengths", 1), ("reshape_all", 2)])
def test_frame_padding_mask_modes(mode, valid_frames):
    # 100 samples -> 19 -> 9 -> 4 frames. A 45-sample utterance: its conv length is 1 frame
    # ((45-10)//5+1 = 8 -> 3 -> 1); reshaped into 4 chunks of 25 samples, chunks 0 and 1 hold speech.
    prenet = tiny(padding_mask_mode=mode).speech_encoder_prenet
    mask = prenet.frame_padding_mask(torch.tensor([100, 45]), num_samples=100, num_frames=4)
    assert mask[0].tolist() == [False] * 4
    assert (~mask[1]).sum().item() == valid_frames and not mask[1, 0]


def test_span_mask_respects_lengths_counts_and_minimum():
    torch.manual_seed(0)
    lengths = torch.tensor([50, 20])
    mask = span_mask((2, 50), prob=0.5, span=5, lengths=lengths, min_masks=2)
    assert not mask[1, 20:].any()  # never in padding
    assert mask[0].sum() >= 10 and mask[1].sum() >= 5  # at least 2 spans (overlap may merge them)
    assert mask[0].sum() <= 30  # int(0.5 * 50 / 5 + u) <= 5 spans of 5
    none = span_mask((2, 50), prob=0.0, span=5, lengths=lengths, min_masks=0)
    assert not none.any()


def test_training_masks_time_spans_with_mask_emb_and_channels_with_zeros():
    model = tiny(mask_time_prob=0.5, mask_time_length=3, mask_channel_prob=0.3, mask_channel_length=4)
    prenet = model.speech_encoder_prenet
    x = torch.randn(2, 30, 32)
    pad = torch.zeros(2, 30, dtype=torch.bool)
    pad[1, 20:] = True
    torch.manual_seed(1)
    y = prenet.apply_masks(x.clone(), pad)
    zero_channels = (y == 0).all(1)  # (B, D): channels zeroed at every frame
    assert zero_channels.any()
    time_masked = (y == torch.where(zero_channels[:, None, :], 0.0, prenet.mask_emb)).all(-1)
    assert time_masked.any() and not time_masked[1, 20:].any()
    untouched = ~time_masked[:, :, None] & ~zero_channels[:, None, :]
    assert torch.equal(y[untouched], x[untouched])


@pytest.mark.parametrize("mask_time_prob,changes", [(0.9, True), (0.0, False)])
def test_masking_happens_only_in_training_mode(mask_time_prob, changes):
    # no other randomness in the speech pre-net once its projection dropout is 0
    model = tiny(mask_time_prob=mask_time_prob, mask_time_length=2, feat_proj_dropout=0.0)
    wav, lengths = torch.randn(2, 400), torch.tensor([400, 300])
    model.eval()
    a, _ = model.encoder_prenet_speech(wav, lengths)
    model.train()
    b, _ = model.encoder_prenet_speech(wav, lengths)
    assert torch.allclose(a, b) != changes


def test_encoder_layerdrop_skips_layers_only_in_training():
    model = tiny(encoder_layerdrop=1.0, dropout=0.0, attention_dropout=0.0, activation_dropout=0.0)
    x, pad = torch.randn(2, 7, 32), torch.zeros(2, 7, dtype=torch.bool)
    model.train()
    assert torch.allclose(model.run_encoder(x, pad), model.encoder.layer_norm(x))  # every layer dropped
    model.eval()
    assert not torch.allclose(model.run_encoder(x, pad), model.encoder.layer_norm(x))


def test_speech_decoder_prenet_dropout_stays_on_at_inference_unless_turned_off():
    model = tiny().eval()
    prenet = model.speech_decoder_prenet
    mel, spk = torch.randn(2, 5, 80), torch.randn(2, 8)
    assert prenet.dropout_at_inference  # Tacotron-style default
    torch.manual_seed(0)
    assert not torch.equal(prenet(mel, spk), prenet(mel, spk))
    prenet.dropout_at_inference = False
    assert torch.equal(prenet(mel, spk), prenet(mel, spk))
    # the speaker embedding enters L2-normalised: its scale does not matter
    assert torch.allclose(prenet(mel, spk), prenet(mel, 7.0 * spk), atol=1e-6)


def test_padded_text_tokens_may_be_negative_and_do_not_change_real_positions():
    model = tiny().eval()
    tokens = torch.tensor([[5, 6, 7, 8], [5, 6, -1, -1]])
    x, pad = model.encode_text(tokens, torch.tensor([4, 2]))
    alone, _ = model.encode_text(tokens[1:, :2], torch.tensor([2]))
    assert pad.tolist() == [[False] * 4, [False, False, True, True]]
    assert torch.allclose(x[1, :2], alone[0], atol=1e-5)


def test_one_training_step_reaches_every_parameter():
    model = tiny(mask_time_prob=0.5, mask_time_length=2).train()
    wav, wav_len = torch.randn(2, 600), torch.tensor([600, 450])
    memory, mem_pad = model.encode_speech(wav, wav_len)
    logits, _, _ = model.decode_text(torch.tensor([[2, 5, 6], [2, 7, -1]]), memory, mem_pad)
    text_mem, text_pad = model.encode_text(torch.tensor([[4, 5, 6], [7, 8, -1]]), torch.tensor([3, 2]))
    before, after, stop, attn, _ = model.decode_speech(torch.randn(2, 4, 80), torch.randn(2, 8), text_mem, text_pad)
    loss = logits.logsumexp(-1).mean() + before.mean() + after.pow(2).mean() + stop.mean() + attn[0].mean()
    loss.backward()
    no_grad = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert no_grad == []
