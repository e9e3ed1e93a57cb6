"""Every loss term on cases small enough to compute by hand."""
import math

import pytest
import torch
from espnet2.asr.ctc import CTC

from espnet_ext.sttatts.losses import (
    GuidedCrossAttentionLoss,
    label_smoothed_nll,
    masked_l1,
    stop_bce,
    stop_labels,
    token_accuracy,
)


def test_cross_entropy_is_the_summed_negative_log_likelihood_of_valid_tokens():
    logits = torch.log(torch.tensor([[[0.5, 0.25, 0.25], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]]]))
    target = torch.tensor([[0, 1, -1]])  # the third position is padding
    loss, nll = label_smoothed_nll(logits, target, epsilon=0.0, ignore_index=-1)
    expected = -(math.log(0.5) + math.log(0.8))
    assert float(loss) == pytest.approx(expected, rel=1e-6)
    assert float(nll) == pytest.approx(expected, rel=1e-6)


def test_label_smoothing_follows_fairseqs_formula():
    logits = torch.log(torch.tensor([[[0.5, 0.25, 0.25]]]))
    loss, nll = label_smoothed_nll(logits, torch.tensor([[0]]), epsilon=0.2)
    eps_i = 0.2 / 2  # epsilon / (V - 1)
    smooth = -(math.log(0.5) + 2 * math.log(0.25))
    expected = (1 - 0.2 - eps_i) * -math.log(0.5) + eps_i * smooth
    assert float(loss) == pytest.approx(expected, rel=1e-6)
    assert float(nll) == pytest.approx(-math.log(0.5), rel=1e-6)


def test_accuracy_counts_valid_positions_only():
    logits = torch.tensor([[[2.0, 1.0], [0.0, 3.0], [5.0, 0.0], [0.0, 1.0]]])
    assert float(token_accuracy(logits, torch.tensor([[0, 0, 0, -1]]))) == pytest.approx(2 / 3)


def test_l1_is_the_mean_over_valid_frames_and_bins():
    pred = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    target = torch.tensor([[[0.0, 0.0], [3.0, 6.0], [0.0, 0.0]]])
    assert float(masked_l1(pred, target, torch.tensor([2]))) == pytest.approx((1 + 2 + 0 + 2) / 4)


def test_stop_labels_mark_the_last_frame_and_after():
    assert stop_labels(torch.tensor([3, 1]), 4).tolist() == [[0, 0, 1, 1], [1, 1, 1, 1]]


def test_stop_bce_weights_the_stop_frame_by_pos_weight():
    logits = torch.tensor([[0.0, 0.0, 0.0, 9.0]])  # the 4th frame is padding
    got = float(stop_bce(logits, torch.tensor([3]), pos_weight=5.0))
    # frames 1-2 are "go" (label 0), frame 3 "stop" (label 1, weight 5); sigmoid(0) = 0.5
    expected = (math.log(2) + math.log(2) + 5 * math.log(2)) / 3
    assert got == pytest.approx(expected, rel=1e-6)


def test_guided_attention_penalises_off_diagonal_weight_on_chosen_heads_and_layers():
    sigma = 0.4
    # one utterance, 2 decoder steps x 2 input frames; guide W[t, n] = 1 - exp(-(n/N - t/T)^2 / (2 sigma^2))
    w_off = 1 - math.exp(-(0.5**2) / (2 * sigma**2))
    diagonal = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    anti = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    layer0 = torch.stack([diagonal, anti])[None]  # (B=1, H=2, U=2, T=2)
    layer1 = torch.stack([anti, anti])[None]
    ilens, olens = torch.tensor([2]), torch.tensor([2])
    first_head_layer0 = GuidedCrossAttentionLoss(sigma, 1.0, num_heads=1, layers=[0])
    assert float(first_head_layer0([layer0, layer1], ilens, olens)) == pytest.approx(0.0)
    both_heads_layer0 = GuidedCrossAttentionLoss(sigma, 2.0, num_heads=2, layers=[0])
    # mean over 2 heads x 4 cells: the anti-diagonal head puts weight 1 on two off-diagonal cells
    assert float(both_heads_layer0([layer0, layer1], ilens, olens)) == pytest.approx(2.0 * 2 * w_off / 8, rel=1e-5)
    all_layers = GuidedCrossAttentionLoss(sigma, 1.0, num_heads=1, layers=None)
    assert float(all_layers([layer0, layer1], ilens, olens)) == pytest.approx(2 * w_off / 8, rel=1e-5)


def test_ctc_with_speecht5s_blank_sums_the_alignments_of_the_target():
    # V = 3 with blank = 2 (<ctc_blank> is last in SpeechT5); 2 frames, target "0"
    ctc = CTC(odim=3, encoder_output_size=3, reduce=True)
    ctc.ctc_loss = torch.nn.CTCLoss(blank=2, reduction="none", zero_infinity=True)
    with torch.no_grad():
        ctc.ctc_lo.weight.copy_(torch.eye(3))
        ctc.ctc_lo.bias.zero_()
    p = torch.tensor([[0.6, 0.1, 0.3], [0.2, 0.2, 0.6]])
    loss = ctc(torch.log(p)[None], torch.tensor([2]), torch.tensor([[0]]), torch.tensor([1]))
    # alignments of "0": (0, 0), (0, blank), (blank, 0)
    prob = p[0, 0] * p[1, 0] + p[0, 0] * p[1, 2] + p[0, 2] * p[1, 0]
    assert float(loss) == pytest.approx(-math.log(float(prob)), rel=1e-5)
