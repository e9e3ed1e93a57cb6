"""The tokenizer's fast paths equal the plain definitions: the midpoint search + neighbour check of
`discretize` is the published argmin over every centre (ties and float rounding at midpoints
included), and the grouped log-mel equals one pass over the whole batch."""
import numpy as np
import torch

from espnet_ext.dmel import DMelTokenizer, bin_table_from_range, save_bin_table
from espnet_ext.dmel.tokenizer import decision_thresholds


def argmin_reference(tok: DMelTokenizer, mel: torch.Tensor) -> torch.Tensor:
    """The published rule: clip to the table's range, then the first centre at the least float32 distance."""
    table = tok.bin_table
    x = torch.maximum(torch.minimum(mel.float(), table[:, -1]), table[:, 0])
    return (x[..., None] - table).abs().argmin(-1)


def hard_values(table: torch.Tensor, per_channel: int = 200) -> torch.Tensor:
    """(N, C) values: centres, float32 midpoints and their neighbouring floats, the decision
    thresholds and the floats just below them, the ends of the range and beyond, random values."""
    gen = torch.Generator().manual_seed(0)
    c = table.shape[0]
    mids = (table[:, :-1] + table[:, 1:]) * 0.5
    thr = torch.from_numpy(decision_thresholds(table.numpy()))
    cols = [table, mids, torch.nextafter(mids, torch.full_like(mids, np.inf)),
            torch.nextafter(mids, torch.full_like(mids, -np.inf)), thr, torch.nextafter(thr, torch.full_like(thr, -np.inf)),
            table[:, :1] - 5.0, table[:, -1:] + 5.0, torch.full((c, 1), float("inf")),
            torch.rand(c, per_channel, generator=gen) * 12.0 - 9.0]
    return torch.cat(cols, dim=1).t().contiguous()  # (N, C)


def test_discretize_equals_the_argmin_over_all_centres_on_hard_values():
    tok = DMelTokenizer()
    x = hard_values(tok.bin_table)
    assert torch.equal(tok.discretize(x), argmin_reference(tok, x))
    ties = (tok.bin_table[:, :-1] + tok.bin_table[:, 1:]) * 0.5  # exact float midpoints: ties -> lower bin
    assert torch.equal(tok.discretize(ties.t()), argmin_reference(tok, ties.t()))


def test_decision_thresholds_are_where_the_float32_argmin_moves_up_a_bin():
    table = torch.tensor([[-7.0, -0.02083, 0.55, 2.0], [-1e-3, 0.0, 1e-3, 3.0]])  # switches near 0
    thr = torch.from_numpy(decision_thresholds(table.numpy()))
    below = torch.nextafter(thr, torch.full_like(thr, -np.inf))
    for j in range(3):
        at, under = thr[:, j : j + 1], below[:, j : j + 1]
        assert ((at - table[:, j + 1 : j + 2]).abs() < (at - table[:, j : j + 1]).abs()).all()
        assert ((under - table[:, j + 1 : j + 2]).abs() >= (under - table[:, j : j + 1]).abs()).all()


def test_discretize_equals_the_argmin_with_a_per_channel_table(tmp_path):
    gen = np.random.default_rng(0)
    lo, hi = -8.0 + gen.random(80), 1.0 + 2.0 * gen.random(80)
    path = save_bin_table(tmp_path / "bins.npy", bin_table_from_range(lo, hi, n_bits=3))
    tok = DMelTokenizer(n_bits=3, bin_table=str(path))
    x = hard_values(tok.bin_table)
    assert torch.equal(tok.discretize(x), argmin_reference(tok, x))
    # any leading shape
    x3 = x[: 3 * (x.shape[0] // 3)].view(3, -1, 80)
    assert torch.equal(tok.discretize(x3), argmin_reference(tok, x3))


def test_grouped_log_mel_equals_one_pass_over_the_batch():
    tok = DMelTokenizer()
    gen = torch.Generator().manual_seed(1)
    wav = 0.1 * torch.randn(3, 16000, generator=gen)
    lengths = torch.tensor([16000, 9000, 12345])
    whole, n = tok.log_mel(wav, lengths, chunk_bytes=1 << 40)  # one group
    single, n1 = tok.log_mel(wav, lengths, chunk_bytes=1)  # one utterance per group
    assert torch.equal(n, n1) and n.tolist() == [41, 23, 31]
    assert torch.allclose(whole, single, atol=1e-5)
    assert bool((whole[1, 23:] == 0).all()) and bool((whole[1, :23] != 0).all())  # padding frames are 0.0
    assert torch.equal(tok.discretize(whole), tok.discretize(single))
