"""The vectorised CTC prefix scorer equals ESPnet's CTCPrefixScorer (CTCPrefixScoreTH), utterance by
utterance, when hypotheses of utterances of different lengths share one batch."""
import pytest
import torch
from espnet.nets.scorers.ctc import CTCPrefixScorer as ESPnetCTCPrefixScorer

from espnet_ext.sttatts.ctc_prefix_score import LOGZERO, CTCPrefixScorer

V, EOS, BLANK, N = 9, 8, 0, 3
LENGTHS = (12, 7)
# a fixed search path: at step s, hypothesis i extends hypothesis SRC[s][i] of step s by LABEL[s][i]
SRC = [[0, 0, 0], [2, 0, 1], [1, 1, 0], [0, 2, 2]]
LABEL = [[3, 5, 3], [3, 4, 1], [6, 6, 2], [5, 1, 7]]


class _Posteriors(torch.nn.Module):
    """A stand-in CTC head returning given log-probabilities (all ESPnet's scorer reads of it)."""

    def __init__(self, logp):
        super().__init__()
        self.logp = logp

    def log_softmax(self, x):
        return self.logp[None].clone()


def _candidates(step, pre_beam, gen):
    """(N, 5) labels to score per hypothesis (containing the path's next labels), or None = all."""
    if not pre_beam:
        return None
    rows = []
    for _ in range(N):
        others = [int(c) for c in torch.randperm(V - 1, generator=gen) + 1 if int(c) not in LABEL[step]]
        rows.append(sorted(set(LABEL[step]) | set(others[: 5 - len(set(LABEL[step]))])))
    return torch.tensor(rows)


def _espnet_scores(logp, ids_steps):
    """ESPnet's scores at every step of the path, for one utterance alone."""
    scorer = ESPnetCTCPrefixScorer(_Posteriors(logp), EOS)
    x = torch.zeros(logp.size(0), 4)
    scorer.batch_init_state(x)
    states, ys, out = [None], [[EOS]], []
    for s, ids in enumerate(ids_steps):
        rows = len(ys)
        scores, st = scorer.batch_score_partial(torch.tensor(ys), None if ids is None else ids[:rows], states, x)
        out.append(scores)
        states = [scorer.select_state(st, SRC[s][i], LABEL[s][i]) for i in range(N)]
        ys = [ys[SRC[s][i]] + [LABEL[s][i]] for i in range(N)]
    return out


@pytest.mark.parametrize("pre_beam", [True, False])
def test_scores_equal_espnets_for_each_utterance_of_a_padded_batch(pre_beam):
    gen = torch.Generator().manual_seed(0)
    logp = torch.log_softmax(3.0 * torch.randn(2, max(LENGTHS), V, generator=gen), -1)
    ids_steps = [_candidates(s, pre_beam, gen) for s in range(len(SRC))]
    reference = [_espnet_scores(logp[b, :t], ids_steps) for b, t in enumerate(LENGTHS)]

    scorer = CTCPrefixScorer(logp, torch.tensor(LENGTHS), BLANK, EOS)
    utt = torch.arange(2).repeat_interleave(N)  # N rows per utterance; at step 0 all are the empty prefix
    state = scorer.initial_state(utt)
    last = torch.full((2 * N,), EOS)
    for s, ids in enumerate(ids_steps):
        scores, cand = scorer.score(state, utt, last, s, None if ids is None else ids.repeat(2, 1))
        for b in range(2):
            got = scores[b * N : b * N + (1 if s == 0 else N)]
            want = reference[b][s]
            scored = want > LOGZERO / 2
            assert torch.equal(scored, got > LOGZERO / 2)  # the same labels scored (candidates, eos)
            assert torch.allclose(got[scored], want[scored], atol=2e-4, rtol=1e-5)
        rows = torch.tensor([b * N + SRC[s][i] for b in range(2) for i in range(N)])
        labels = torch.tensor(LABEL[s] * 2)
        state, last = scorer.select(cand, rows, labels), labels
    assert scorer.end_frames.tolist() == [t - 1 for t in LENGTHS]


def test_the_closed_form_recursion_equals_the_frame_by_frame_one():
    gen = torch.Generator().manual_seed(1)
    log_a = torch.log(torch.rand(20, 3, generator=gen, dtype=torch.float64))
    log_b = torch.log(torch.rand(20, 3, generator=gen, dtype=torch.float64))
    y0 = torch.log(torch.rand(3, generator=gen, dtype=torch.float64))
    got = CTCPrefixScorer._linear_recursion(log_a, log_b, y0)
    y, want = y0, []
    for t in range(20):  # y_t = a_t (y_{t-1} + b_{t-1})
        y = log_a[t] + torch.logaddexp(y, log_b[t])
        want.append(y)
    assert torch.allclose(got, torch.stack(want), atol=1e-10)
