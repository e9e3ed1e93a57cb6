"""DMelTokenizer: token parity with the published ``dmel`` package, bin tables, decode accuracy."""
import dmel
import numpy as np
import pytest
import torch

from espnet_ext.dmel.tokenizer import (
    DMelTokenizer,
    MelRange,
    bin_table_from_range,
    load_bin_table,
    save_bin_table,
    uniform_bin_table,
)

STRIDE_MS = {40: 25, 80: 12.5}  # the published package's frame_stride_ms for each rate


def reference(rate, **kwargs):
    return dmel.DiscretizedLogMelFbank(dmel.LogMelFbank(frame_stride_ms=STRIDE_MS[rate]), n_bits=4, **kwargs)


def batch(waves):
    lengths = torch.tensor([len(w) for w in waves])
    x = torch.zeros(len(waves), int(lengths.max()))
    for i, w in enumerate(waves):
        x[i, : len(w)] = torch.as_tensor(w)
    return x, lengths


@pytest.fixture(scope="module")
def speech(espeak_speech):
    return [espeak_speech("The quick brown fox jumps over the lazy dog."), espeak_speech("Hello world", voice="en-us+f3")]


def published_alone(rate, x, lengths, **ref_kwargs):
    """The package's tokens of each utterance encoded on its own (a padded batch through the
    package lets the padding reach a shorter utterance's last frames)."""
    ref = reference(rate, **ref_kwargs)
    out = []
    for b, length in enumerate(lengths.tolist()):
        tokens, n = ref(x[b : b + 1, :length].clone(), torch.tensor([length]))
        out.append((tokens[0], int(n[0])))
    return out


def assert_parity(rate, x, lengths, **ref_kwargs):
    tok = DMelTokenizer(frame_rate_hz=rate, bin_table=ref_kwargs.get("discretizer"))
    tokens, n = tok.encode(x, lengths)
    framed, n_framed = tok.encode(x, lengths, add_bos_eos=True)
    assert torch.equal(n_framed, n + 2)
    assert n.tolist() == [int(s) // (16000 // rate) + 1 for s in lengths]
    for b, (ref_tokens, ref_length) in enumerate(published_alone(rate, x, lengths, **ref_kwargs)):
        m = int(n[b])
        assert ref_length == m + 2
        assert torch.equal(tokens[b, :m], ref_tokens[1 : m + 1])  # bos/eos frames aside
        assert torch.equal(framed[b, : m + 2], ref_tokens[: m + 2])  # and with them, within the length
    return tokens


@pytest.mark.parametrize("rate", [40, 80])
@pytest.mark.parametrize("kind", ["speech", "noise"])
def test_tokens_of_a_padded_batch_equal_each_utterance_alone(speech, rate, kind):
    g = torch.Generator().manual_seed(rate)
    base = torch.as_tensor(speech[1]) if kind == "speech" else torch.randn(len(speech[1]), generator=g)
    tok = DMelTokenizer(frame_rate_hz=rate)
    alone, n_alone = tok.encode(base[None])
    (published, _), = published_alone(rate, base[None], torch.tensor([len(base)]))
    assert torch.equal(alone[0], published[1:-1])
    for extra in (1, 37, 199, 400, 513, 4000):  # padding shorter and longer than n_fft / 2 and a hop
        x = torch.zeros(2, len(base) + extra)
        x[0] = torch.randn(len(base) + extra, generator=g)  # the longer partner fills the batch
        x[1, : len(base)] = base
        tokens, n = tok.encode(x, torch.tensor([len(base) + extra, len(base)]))
        assert int(n[1]) == int(n_alone[0])
        assert torch.equal(tokens[1, : int(n[1])], alone[0]), f"{extra} samples of padding changed the tokens"
        assert (tokens[1, int(n[1]) :] == tok.pad_id).all()


@pytest.mark.parametrize("rate", [40, 80])
def test_tokens_equal_published_dmel_on_espeak_speech(speech, rate):
    x, lengths = batch(speech)
    tokens = assert_parity(rate, x, lengths)
    assert len(torch.unique(tokens[0, : 50])) > 8  # real speech spreads over many bins


@pytest.mark.parametrize("rate", [40, 80])
def test_tokens_equal_published_dmel_on_noise(rate):
    g = torch.Generator().manual_seed(rate)
    x = torch.randn(3, 12000, generator=g) * torch.tensor([[0.5], [0.05], [2.0]])
    assert_parity(rate, x, torch.tensor([12000, 9001, 4000]))


def test_bin_table_file_loads_in_published_dmel_with_equal_tokens(speech, tmp_path):
    mel_range = MelRange()
    tok = DMelTokenizer()
    for w in speech:
        mel_range.update(tok.log_mel(torch.as_tensor(w)[None])[0][0].numpy())
    path = save_bin_table(tmp_path / "bins.npy", mel_range.table(n_bits=4, per_channel=True))
    x, lengths = batch(speech)
    assert_parity(40, x, lengths, discretizer=str(path))


def test_published_uniform_table_spans_minus7_to_2_in_steps_of_0_6():
    table = uniform_bin_table(4)
    assert table.shape == (80, 16)
    np.testing.assert_allclose(table[5], -7 + 0.6 * np.arange(16), atol=1e-6)
    np.testing.assert_array_equal(table, reference(40).discretizing_matrix[:, :16].numpy())


def test_bin_table_from_range_follows_eqs_2_and_3():
    # m = -8, M = 0, K = 2: delta = 8 / 4 = 2, C = [-8, -6, -4, -2] (M itself is not a centre)
    np.testing.assert_allclose(bin_table_from_range(-8.0, 0.0, n_bits=2, n_mels=3), [[-8, -6, -4, -2]] * 3)
    per_channel = bin_table_from_range(np.array([-4.0, 0.0]), np.array([4.0, 16.0]), n_bits=1, n_mels=2)
    np.testing.assert_allclose(per_channel, [[-4, 0], [0, 8]])


def test_mel_range_tracks_global_and_per_channel_extremes(tmp_path):
    r = MelRange(n_mels=2)
    r.update(np.array([[-3.0, 1.0], [0.0, 5.0]]))
    r.update(np.array([[-1.0, -2.0]]))
    np.testing.assert_allclose(r.table(n_bits=1), [[-3, 1], [-3, 1]])  # m = -3, M = 5, delta = 4
    np.testing.assert_allclose(r.table(n_bits=1, per_channel=True), [[-3, -1.5], [-2, 1.5]])
    path = save_bin_table(tmp_path / "t.table", r.table(n_bits=1))
    assert path.name == "t.table"  # no ".npy" appended
    np.testing.assert_allclose(load_bin_table(path), r.table(n_bits=1))


@pytest.mark.parametrize("rate", [40, 80])
def test_decode_of_encode_is_within_half_a_bin_of_the_clipped_mel(speech, rate):
    tok = DMelTokenizer(frame_rate_hz=rate)
    x, lengths = batch(speech)
    mel, n = tok.log_mel(x, lengths)
    tokens, _ = tok.encode(x, lengths)
    decoded = tok.decode(tokens)
    half = 0.6 / 2
    for b in range(len(lengths)):
        m = int(n[b])
        clipped = mel[b, :m].clamp(-7.0, 2.0)
        err = (decoded[b, :m] - clipped).abs().max()
        assert err <= half + 1e-5
        assert err > 0.25  # a quantizer, not the identity: some value lies near a bin edge


def test_special_ids_padding_and_bos_eos_frames():
    tok = DMelTokenizer(frame_rate_hz=40, n_bits=4)
    assert (tok.pad_id, tok.bos_id, tok.eos_id, tok.vocab_size) == (16, 17, 18, 19)
    x = torch.randn(2, 4000) * 0.1
    lengths = torch.tensor([4000, 1200])
    tokens, n = tok.encode(x, lengths)
    assert n.tolist() == [11, 4]
    assert (tokens[1, 4:] == tok.pad_id).all() and (tokens[1, :4] < 16).all()
    framed, n2 = tok.encode(x, lengths, add_bos_eos=True)
    assert n2.tolist() == [13, 6]
    assert (framed[:, 0] == tok.bos_id).all()
    assert (framed[1, 5] == tok.eos_id).all() and (framed[0, 12] == tok.eos_id).all()
    assert (framed[1, 6:] == tok.pad_id).all()
    # decode maps specials to the lowest centre (silence) and bins to their centres
    assert torch.allclose(tok.decode(torch.tensor([[[17] * 80, [15] * 80]])), torch.tensor([[[-7.0] * 80, [2.0] * 80]]))


def test_wrong_table_shape_is_rejected(tmp_path):
    path = save_bin_table(tmp_path / "bad.npy", np.zeros((80, 8)))
    with pytest.raises(ValueError, match="shape"):
        DMelTokenizer(n_bits=4, bin_table=str(path))


def test_unsorted_table_is_rejected(tmp_path):
    table = uniform_bin_table(4)
    table[3, [4, 5]] = table[3, [5, 4]]
    with pytest.raises(ValueError, match="increase"):
        load_bin_table(save_bin_table(tmp_path / "unsorted.npy", table))
