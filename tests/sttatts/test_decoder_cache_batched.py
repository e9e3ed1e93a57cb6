"""Decoding-speed paths give what the plain paths give: a cache whose encoder memory is shared by
groups of rows (beam search), in-place reordering and dropping of groups, fused projections at
inference, and a batch of waveforms encoded utterance by utterance."""
import torch

from sttatts_tiny import build_tiny

from espnet_ext.speecht5 import SpeechT5, SpeechT5Config

TINY = dict(
    vocab_size=30, d_model=32, encoder_layers=2, decoder_layers=2, attention_heads=4, ffn_dim=64,
    conv_dim=(16, 16), conv_kernel=(10, 3), conv_stride=(5, 2), pos_conv_kernel=8, pos_conv_groups=4,
    max_relative_position=4, speech_decoder_prenet_units=16, spk_embed_dim=8, postnet_units=16,
)


def _model():
    torch.manual_seed(0)
    with torch.no_grad():
        m = SpeechT5(SpeechT5Config(**TINY)).eval()
        for p in m.parameters():  # non-trivial norms
            if p.dim() == 1:
                p.add_(0.1 * torch.randn_like(p))
    return m


def _memory():
    gen = torch.Generator().manual_seed(1)
    memory = torch.randn(2, 9, 32, generator=gen)
    pad = torch.zeros(2, 9, dtype=torch.bool)
    pad[1, 6:] = True
    return memory, pad


@torch.no_grad()
def test_rows_sharing_one_memory_row_decode_as_with_their_own_copy():
    model = _model()
    memory, pad = _memory()
    groups = 3  # 3 hypotheses per utterance: rows 0-2 read memory row 0, rows 3-5 memory row 1
    prev = torch.randint(3, 30, (6, 5), generator=torch.Generator().manual_seed(2))
    shared, own = model.new_cache(share_cross=True), model.new_cache()
    mem_rows, pad_rows = memory.repeat_interleave(groups, 0), pad.repeat_interleave(groups, 0)
    order = torch.tensor([2, 0, 0, 4, 5, 3])  # a beam-search reordering (within each utterance)
    for u in range(5):
        a, att_a, _ = model.decode_text(prev[:, u : u + 1], memory, pad, shared, need_cross_attn=[1])
        b, att_b, _ = model.decode_text(prev[:, u : u + 1], mem_rows, pad_rows, own, need_cross_attn=[1])
        assert torch.allclose(a, b, atol=1e-5) and torch.allclose(att_a[1], att_b[1], atol=1e-6)
        shared.reorder_(order)
        own = own.index_select(order)
        prev = prev[order]
    assert shared.cross_k[0].size(0) == 2 and own.cross_k[0].size(0) == 6  # never copied per row


@torch.no_grad()
def test_dropping_a_finished_group_keeps_the_others_states():
    model = _model()
    memory, pad = _memory()
    prev = torch.randint(3, 30, (4, 4), generator=torch.Generator().manual_seed(3))
    cache = model.new_cache(share_cross=True)
    for u in range(3):
        model.decode_text(prev[:, u : u + 1], memory, pad, cache)
    cache.select_groups(torch.tensor([1]), 2)  # utterance 0 ended: keep rows 2, 3
    step, _, _ = model.decode_text(prev[2:, 3:4], memory[1:], pad[1:], cache)
    full, _, _ = model.decode_text(prev[2:], memory[1:].expand(2, -1, -1), pad[1:].expand(2, -1))
    assert torch.allclose(step[:, 0], full[:, 3], atol=1e-5)


@torch.no_grad()
def test_fused_inference_projections_equal_the_separate_ones_and_follow_weight_updates():
    model = _model()
    attn = model.decoder.layers[0].self_attn
    x = torch.randn(2, 5, 32)
    q, k, v = attn.query_key_value(x)
    assert torch.allclose(q, attn.query(x), atol=1e-6)
    with torch.enable_grad():
        k_ref, v_ref = attn.key_value(x)
    assert torch.allclose(k, k_ref, atol=1e-6) and torch.allclose(v, v_ref, atol=1e-6)
    attn.v_proj.weight.add_(1.0)  # an in-place update (optimizer step, load_state_dict) ...
    _, _, v2 = attn.query_key_value(x)
    assert torch.allclose(v2, attn.split_heads(attn.v_proj(x)), atol=1e-5)  # ... is seen


def test_speaker_term_made_once_at_inference_follows_new_embeddings():
    prenet = _model().speech_decoder_prenet
    prenet.dropout_at_inference = False
    prev = torch.randn(2, 3, 80)
    for seed in (1, 2):  # a new embedding tensor each time: the cached term must not be reused
        spk = torch.randn(2, 8, generator=torch.Generator().manual_seed(seed))
        with torch.no_grad():
            fast = [prenet(prev[:, u : u + 1], spk, u) for u in range(3)]
        reference = prenet(prev, spk).detach()  # autograd on: the concatenation path
        assert torch.allclose(torch.cat(fast, 1), reference, atol=1e-5)


@torch.no_grad()
def test_a_list_of_waveforms_is_encoded_utterance_by_utterance_and_padded():
    model, _ = build_tiny()
    gen = torch.Generator().manual_seed(4)
    wavs = [0.1 * torch.randn(n, generator=gen) for n in (4000, 2500, 3300)]
    enc, pad, memory = model.encode("asr", wavs, one_by_one=True)
    grouped_enc, grouped_pad, _ = model.encode("asr", wavs)  # padded groups (tests/sttatts/test_batched_encoding.py)
    assert torch.equal(grouped_pad, pad)
    for b, w in enumerate(wavs):
        alone_enc, alone_pad, alone_mem = model.encode("asr", w[None], torch.tensor([len(w)]))
        t = alone_enc.size(1)
        assert int((~pad[b]).sum()) == t and not alone_pad.any() and bool(pad[b, t:].all())
        assert torch.equal(enc[b, :t], alone_enc[0]) and torch.equal(memory[b, :t], alone_mem[0])
        assert float((grouped_enc[b, :t] - alone_enc[0]).abs().max()) < 1e-5
    # the padded batch through the training path differs (GroupNorm statistics span the padding)
    lengths = torch.tensor([len(w) for w in wavs])
    padded = torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True)
    batch_enc, _, _ = model.encode("asr", padded, lengths)
    t = int((~pad[1]).sum())
    assert (batch_enc[1, :t] - enc[1, :t]).abs().max() > 1e-3
