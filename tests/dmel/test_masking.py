"""Span masking and SpecAugment (appendix D), checked on hand-made sequences."""
import torch

from espnet_ext.dmel.masking import span_mask, span_mask_one, spec_augment


def runs(mask: torch.Tensor):
    """Lengths of the runs of True in a 1-D bool tensor."""
    out, n = [], 0
    for v in mask.tolist() + [False]:
        if v:
            n += 1
        elif n:
            out.append(n)
            n = 0
    return out


def test_one_sequence_hides_ratio_of_tokens_in_separate_spans_of_mean_3():
    g = torch.Generator().manual_seed(0)
    lengths = []
    for _ in range(300):
        m = span_mask_one(60, ratio=0.5, mean_span=3.0, g=g)
        assert int(m.sum()) == 30
        spans = runs(m)
        assert len(spans) == 10  # 30 masked / mean span 3
        lengths += spans
    assert abs(sum(lengths) / len(lengths) - 3.0) < 1e-9
    assert max(lengths) > 3  # span lengths vary


def test_span_mask_stays_inside_the_maskable_run_of_each_row():
    maskable = torch.zeros(3, 12, dtype=torch.bool)
    maskable[0, 1:11] = True  # bos at 0, eos at 11
    maskable[1, 1:4] = True
    g = torch.Generator().manual_seed(1)
    hide = span_mask(maskable, p=1.0, mean_span=3.0, ratio=0.5, generator=g)
    assert not (hide & ~maskable).any()
    assert hide.sum(1).tolist() == [5, 2, 0]  # round(10 * 0.5), round(3 * 0.5) = 2, empty row


def test_span_mask_probability_selects_rows():
    maskable = torch.ones(400, 20, dtype=torch.bool)
    g = torch.Generator().manual_seed(2)
    assert not span_mask(maskable, p=0.0, generator=g).any()
    rows = span_mask(maskable, p=0.8, generator=g).any(1).float().mean().item()
    assert 0.74 < rows < 0.86
    assert span_mask(maskable, p=1.0, generator=g).sum(1).eq(10).all()  # paper defaults: ratio 0.5


def test_spec_augment_fills_with_the_utterance_mean_and_leaves_padding():
    g = torch.Generator().manual_seed(3)
    mel = torch.randn(2, 200, 80, generator=g)
    lengths = torch.tensor([200, 120])
    out = spec_augment(mel, lengths, generator=g)
    for b, n in enumerate(lengths.tolist()):
        mean = mel[b, :n].mean()
        changed = out[b] != mel[b]
        assert changed.any()
        assert torch.allclose(out[b][changed], mean.expand(int(changed.sum())))
        assert not changed[n:].any()


def test_time_masks_are_bounded_by_width_and_ratio_of_length():
    g = torch.Generator().manual_seed(4)
    for n in (100, 1000):
        widths = []
        for _ in range(200):
            mel = torch.randn(1, n, 4, generator=g)
            out = spec_augment(mel, torch.tensor([n]), n_freq_masks=0, n_time_masks=1, generator=g)
            widths += runs((out[0] != mel[0]).all(1))
        bound = min(50, int(0.1 * n))
        assert max(widths) <= bound and max(widths) >= bound - 3


def test_frequency_masks_are_at_most_30_channels_each():
    g = torch.Generator().manual_seed(5)
    widths = []
    for _ in range(200):
        mel = torch.randn(1, 40, 80, generator=g)
        out = spec_augment(mel, torch.tensor([40]), n_freq_masks=1, n_time_masks=0, generator=g)
        widths += runs((out[0] != mel[0]).all(0))
    assert max(widths) == 30
