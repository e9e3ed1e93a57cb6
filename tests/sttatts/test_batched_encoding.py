"""A list of waveforms encoded as one padded batch (GroupNorm statistics without the padding) equals
encoding each waveform alone."""
import torch

from espnet_ext.speecht5.speech_encoder_prenet import masked_channel_norm

LENGTHS = (16000, 13100, 13999, 14500, 15400)  # samples: one padded batch (longest / shortest < 1.25),
# different frame counts and conv remainders


def _wavs(seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [0.1 * torch.randn(n, generator=gen) + 0.05 for n in LENGTHS]  # a DC offset: means matter


def test_batched_encoding_equals_one_by_one(tiny):
    model, _ = tiny
    wavs = _wavs()
    with torch.no_grad():
        enc, pad, memory = model.encode("asr", wavs)
        ref_enc, ref_pad, ref_memory = model.encode("asr", wavs, one_by_one=True)
    assert torch.equal(pad, ref_pad)
    assert enc.size(0) == len(LENGTHS)  # in the given order (grouped by length inside)
    frames = (~pad).sum(1).tolist()
    assert len(set(frames)) == len(LENGTHS)
    for b, t in enumerate(frames):
        assert float((enc[b, :t] - ref_enc[b, :t]).abs().max()) < 1e-5 * float(ref_enc[b, :t].abs().max())
        assert float((memory[b, :t] - ref_memory[b, :t]).abs().max()) < 1e-5 * float(ref_memory[b, :t].abs().max())


def test_plain_padded_batch_differs_from_one_by_one(tiny):
    """Why the masking is needed: without it, the statistics span the padding."""
    model, _ = tiny
    wavs = _wavs()
    lengths = torch.tensor(LENGTHS)
    padded = torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True)
    with torch.no_grad():
        plain, _ = model.backbone.encoder_prenet_speech(padded, lengths)
        masked, pad = model.backbone.encoder_prenet_speech(padded, lengths, unpadded=True)
        alone, _ = model.backbone.encoder_prenet_speech(wavs[1][None], lengths[1:2])
    t = alone.size(1)
    assert int((~pad[1]).sum()) == t
    assert float((masked[1, :t] - alone[0]).abs().max()) < 1e-5
    assert float((plain[1, :t] - alone[0]).abs().max()) > 1e-2


def test_masked_channel_norm_is_group_norm_over_the_valid_frames():
    norm = torch.nn.GroupNorm(4, 4)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
        norm.bias.uniform_(-0.5, 0.5)
    x = torch.randn(2, 4, 9)
    lengths = torch.tensor([9, 5])
    got = masked_channel_norm(x, lengths, norm)
    assert torch.allclose(got[0], norm(x[:1])[0], atol=1e-5)
    assert torch.allclose(got[1, :, :5], norm(x[1:, :, :5])[0], atol=1e-5)


def test_similar_lengths_share_a_padded_batch(tiny, monkeypatch):
    model, _ = tiny
    calls = []
    encode = model._encode
    monkeypatch.setattr(model, "_encode", lambda *a, **k: calls.append(a[1].shape) or encode(*a, **k))
    with torch.no_grad():
        model.encode("asr", _wavs())
    assert [tuple(s) for s in calls] == [(5, 16000)]
    calls.clear()
    with torch.no_grad():  # 4000, 4500 | 10000, 11000, 12000
        model.encode("asr", [torch.randn(n) for n in (10000, 12000, 4000, 11000, 4500)])
    assert sorted(tuple(s) for s in calls) == [(2, 4500), (3, 12000)]
