"""KV-cached incremental decoding equals full recomputation (text and speech)."""
import pytest
import torch

from espnet_ext.speecht5 import DecoderCache, SpeechT5, SpeechT5Config

TINY = dict(
    vocab_size=30, d_model=32, encoder_layers=1, decoder_layers=2, attention_heads=4, ffn_dim=64,
    conv_dim=(16, 16), conv_kernel=(10, 3), conv_stride=(5, 2), pos_conv_kernel=8, pos_conv_groups=4,
    max_relative_position=4, speech_decoder_prenet_units=16, spk_embed_dim=8, postnet_units=16,
)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = SpeechT5(SpeechT5Config(**TINY)).eval()
    m.speech_decoder_prenet.dropout_at_inference = False
    return m


@pytest.fixture(scope="module")
def memory(model):
    gen = torch.Generator().manual_seed(1)
    memory = torch.randn(2, 9, 32, generator=gen)
    pad_mask = torch.zeros(2, 9, dtype=torch.bool)
    pad_mask[1, 6:] = True
    return memory, pad_mask


@torch.no_grad()
def test_cached_text_decoding_one_token_at_a_time_equals_teacher_forcing(model, memory):
    mem, pad = memory
    prev = torch.randint(3, 30, (2, 21), generator=torch.Generator().manual_seed(2))  # > 16: buffer grows
    prev[:, 0] = 2
    full, full_attn, _ = model.decode_text(prev, mem, pad)
    cache = model.new_cache()
    steps = []
    for u in range(prev.size(1)):
        logits, attn, cache = model.decode_text(prev[:, u : u + 1], mem, pad, cache)
        steps.append(logits)
        assert torch.allclose(attn[1][:, :, 0], full_attn[1][:, :, u], atol=1e-6)
    assert cache.length == 21 and cache.self_k[0].size(2) == 32  # capacity doubled once from 16
    assert (torch.cat(steps, dim=1) - full).abs().max() < 1e-5


@torch.no_grad()
def test_cached_text_decoding_with_several_new_positions_per_call(model, memory):
    mem, pad = memory
    prev = torch.randint(3, 30, (2, 8), generator=torch.Generator().manual_seed(3))
    full, _, _ = model.decode_text(prev, mem, pad)
    cache = model.new_cache()
    first, _, cache = model.decode_text(prev[:, :5], mem, pad, cache)  # causal within the chunk
    rest, _, cache = model.decode_text(prev[:, 5:], mem, pad, cache)  # sees the 5 cached positions
    assert (torch.cat([first, rest], dim=1) - full).abs().max() < 1e-5
    # positions really matter: decoding the chunk without its history gives something else
    alone, _, _ = model.decode_text(prev[:, 5:], mem, pad)
    assert (alone - full[:, 5:]).abs().max() > 1e-2


@torch.no_grad()
def test_cross_attention_keys_are_projected_once(model, memory):
    mem, pad = memory
    cache = model.new_cache()
    model.decode_text(torch.full((2, 1), 2), mem, pad, cache)
    cross_k = cache.cross_k[0]
    model.decode_text(torch.full((2, 1), 5), mem, pad, cache)
    assert cache.cross_k[0] is cross_k


@torch.no_grad()
def test_cached_speech_decoding_equals_teacher_forcing(model, memory):
    mem, pad = memory
    gen = torch.Generator().manual_seed(4)
    prev_mel = torch.randn(2, 7, 80, generator=gen)
    prev_mel[:, 0] = 0
    spembs = torch.randn(2, 8, generator=gen)
    before, after, stop, _, _ = model.decode_speech(prev_mel, spembs, mem, pad)
    cache = model.new_cache()
    befores, stops = [], []
    for u in range(7):
        b, a, s, _, cache = model.decode_speech(prev_mel[:, u : u + 1], spembs, mem, pad, cache, run_postnet=False)
        assert a is None
        befores.append(b)
        stops.append(s)
    inc_before = torch.cat(befores, dim=1)
    assert (inc_before - before).abs().max() < 1e-5
    assert (torch.cat(stops, dim=1) - stop).abs().max() < 1e-5
    # the postnet run once at the end on the collected frames gives the teacher-forced output
    assert (model.speech_decoder_postnet.postnet(inc_before) - after).abs().max() < 1e-5


@torch.no_grad()
def test_cache_index_select_reorders_the_batch_for_beam_search(model, memory):
    mem, pad = memory
    prev = torch.randint(3, 30, (2, 4), generator=torch.Generator().manual_seed(5))
    cache = model.new_cache()
    model.decode_text(prev[:, :3], mem, pad, cache)
    order = torch.tensor([1, 1, 0])
    reordered = cache.index_select(order)
    assert isinstance(reordered, DecoderCache) and reordered.length == 3
    step, _, _ = model.decode_text(prev[order, 3:], mem[order], pad[order], reordered)
    full, _, _ = model.decode_text(prev[order], mem[order], pad[order])
    assert (step[:, 0] - full[:, 3]).abs().max() < 1e-5


@torch.no_grad()
def test_cross_attention_only_for_requested_layers_and_fused_path_gives_same_output(model, memory):
    mem, pad = memory
    prev = torch.randint(3, 30, (2, 5), generator=torch.Generator().manual_seed(6))
    all_logits, all_attn, _ = model.decode_text(prev, mem, pad, need_cross_attn=True)
    some_logits, some_attn, _ = model.decode_text(prev, mem, pad, need_cross_attn=[1])
    fused_logits, none_attn, _ = model.decode_text(prev, mem, pad, need_cross_attn=False)
    assert some_attn[0] is None and torch.allclose(some_attn[1], all_attn[1])
    assert none_attn == []
    assert torch.allclose(all_logits, fused_logits, atol=1e-5) and torch.allclose(some_logits, fused_logits, atol=1e-5)
    assert torch.allclose(all_attn[0].sum(-1), torch.ones(2, 4, 5))
