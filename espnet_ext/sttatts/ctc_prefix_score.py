"""CTC prefix scores for many hypotheses of many utterances, without a loop over encoder frames.

The quantities are those of ESPnet's ``CTCPrefixScoreTH`` (Watanabe et al. 2017, Algorithm 2;
Seki et al. 2019), which this class replaces in our beam search. For a prefix g (last label g_l)
and a candidate label c, with per-frame CTC log-probabilities x_t(.):

    phi_t   = r^b_t(g) if c == g_l else logaddexp(r^n_t(g), r^b_t(g))
    r^n_t(h) = logaddexp(r^n_{t-1}(h), phi_{t-1}) + x_t(c)              h = g + c
    r^b_t(h) = logaddexp(r^n_{t-1}(h), r^b_{t-1}(h)) + x_t(blank)
    psi(h)   = logsumexp(r^n_{s-1}(h), {phi_{t-1} + x_t(c)}_{t = s..T-1}),  s = max(|g|, 1)

ESPnet runs the two recursions frame by frame (a Python loop of T iterations per output token).
Both are first-order linear recursions in the probability domain, y_t = a_t (y_{t-1} + b_{t-1}),
so they have a closed form with cumulative sums: with A_t = sum_{u=s..t} log a_u,

    log y_t = A_t + logaddexp(log y_{s-1}, logcumsumexp_{u=s..t}(log b_{u-1} - A_{u-1}))

which is one ``cumsum`` and one ``logcumsumexp`` over time for every (hypothesis, label) at once.
The cumulative sums grow large, so the forward variables are kept in float64 (error ~1e-9 where
ESPnet's float32 loop carries ~1e-5); the scores handed to the beam search are float32, as ESPnet's.
Padded frames (past an utterance's length) have blank probability 1 and label probability 0, so
a batch gives every utterance the scores it gets alone.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

LOGZERO = -1e10  # ESPnet's log(0) in CTCPrefixScoreTH


@dataclass
class CTCPrefixState:
    """Forward variables of N prefixes: r (T, 2, N) = (log r^n_t, log r^b_t), prefix score s (N,)."""

    r: torch.Tensor
    s: torch.Tensor


@dataclass
class CTCCandidates:
    """Scores of the candidate labels of one step, kept to build the chosen hypotheses' states."""

    r: torch.Tensor  # (T, 2, N, P) forward variables of every (prefix, candidate)
    log_psi: torch.Tensor  # (N, V) prefix scores, LOGZERO for labels not scored
    ids: torch.Tensor | None  # (N, P) candidate labels, None = the whole vocabulary


class CTCPrefixScorer:
    """CTC prefix scoring of hypotheses from several utterances (rows), vectorised over time.

    Args:
        logp: (B, T, V) CTC log-probabilities (any float dtype).
        lengths: (B,) valid frames of each utterance.
        blank: blank id (ESPnet's scorer uses 0: see BlankFirstCTC).
        eos: end-of-sentence id; its score is the probability of the whole prefix.
    """

    def __init__(self, logp: torch.Tensor, lengths: torch.Tensor, blank: int, eos: int):
        x = logp.detach().to(torch.float64).clone()
        b, t, v = x.shape
        pad = torch.arange(t, device=x.device)[None, :] >= lengths.to(x.device)[:, None]  # (B, T)
        x.masked_fill_(pad[:, :, None], LOGZERO)
        x[:, :, blank].masked_fill_(pad, 0.0)
        self.x = x.transpose(0, 1).contiguous()  # (T, B, V)
        self.blank, self.eos = blank, eos
        self.end_frames = lengths.to(x.device).long() - 1
        self.vocab = v

    def initial_state(self, utt: torch.Tensor) -> CTCPrefixState:
        """The empty prefix for rows of utterances `utt` (N,): all-blank paths."""
        n = utt.numel()
        r = torch.full((self.x.size(0), 2, n), LOGZERO, dtype=torch.float64, device=self.x.device)
        r[:, 1] = torch.cumsum(self.x[:, utt, self.blank], dim=0)
        return CTCPrefixState(r, torch.zeros(n, dtype=torch.float64, device=self.x.device))

    def score(
        self,
        state: CTCPrefixState,
        utt: torch.Tensor,
        last: torch.Tensor,
        output_length: int,
        ids: torch.Tensor | None,
    ) -> tuple[torch.Tensor, CTCCandidates]:
        """Score candidate labels after N prefixes of length `output_length` (without the start symbol).

        Args:
            state: the prefixes' forward variables.
            utt: (N,) utterance of each row; last: (N,) each prefix's last label.
            ids: (N, P) labels to score per row (ESPnet's pre-beam), or None for all labels.
        Returns:
            scores (N, V) float32: log psi(g + c) - log psi(g), LOGZERO - log psi(g) for labels
            not scored, the whole prefix's probability for eos, LOGZERO for blank; and the
            candidates, from which ``select`` builds the next state.
        """
        x = self.x
        n = utt.numel()
        if ids is None:
            ids_ = torch.arange(self.vocab, device=x.device).expand(n, -1)
            xc = x[:, utt]  # (T, N, V)
        else:
            ids_ = ids
            xc = x[:, utt[:, None], ids]  # (T, N, P)
        xb = x[:, utt, self.blank]  # (T, N)
        r_prev = state.r
        r_sum = torch.logaddexp(r_prev[:, 0], r_prev[:, 1])  # (T, N)
        repeat = (ids_ == last[:, None])[None]  # a repeated label continues only after a blank
        phi = torch.where(repeat, r_prev[:, 1, :, None], r_sum[:, :, None])  # (T, N, P)

        t_total = x.size(0)
        start = max(output_length, 1)
        shape = (n, ids_.size(1))
        rn_init = xc[0] if output_length == 0 else x.new_full(shape, LOGZERO)  # r^n_{start-1}
        r = x.new_full((t_total, 2, *shape), LOGZERO)
        r[start - 1, 0] = rn_init
        if start < t_total:
            rn = self._linear_recursion(xc[start:], phi[start - 1 : -1], rn_init)
            rn_before = torch.cat([rn_init[None], rn[:-1]])  # r^n_{t-1}, t = start .. T-1
            rb = self._linear_recursion(
                xb[start:, :, None].expand_as(rn), rn_before, x.new_full(shape, LOGZERO)
            )
            r[start:, 0], r[start:, 1] = rn, rb
        psi_terms = torch.cat([phi[start - 1 : -1] + xc[start:], rn_init[None]])
        log_psi_ids = torch.logsumexp(psi_terms, dim=0)  # (N, P)

        log_psi = x.new_full((n, self.vocab), LOGZERO)
        log_psi.scatter_(1, ids_, log_psi_ids)
        log_psi[:, self.eos] = r_sum[self.end_frames[utt], torch.arange(n, device=x.device)]
        if self.eos != self.blank:
            log_psi[:, self.blank] = LOGZERO
        scores = (log_psi - state.s[:, None]).to(torch.float32)
        return scores, CTCCandidates(r, log_psi, ids)

    @staticmethod
    def _linear_recursion(log_a: torch.Tensor, log_b: torch.Tensor, log_y0: torch.Tensor) -> torch.Tensor:
        """log y_t for y_t = a_t (y_{t-1} + b_{t-1}), t = 1..L, from log a (L, ...), log b
        (L, ...) = b_0 .. b_{L-1}, log y_0 (...): the closed form of the module docstring."""
        cum = torch.cumsum(log_a, dim=0)
        cum_before = torch.cat([torch.zeros_like(cum[:1]), cum[:-1]])
        return cum + torch.logaddexp(log_y0, torch.logcumsumexp(log_b - cum_before, dim=0))

    @staticmethod
    def select(cand: CTCCandidates, rows: torch.Tensor, labels: torch.Tensor) -> CTCPrefixState:
        """The state of prefixes `rows` (M,) extended by `labels` (M,) (any label; eos-ended
        hypotheses are never scored again, so their forward variables do not matter)."""
        if cand.ids is None:
            pos = labels
        else:
            pos = (cand.ids[rows] == labels[:, None]).to(torch.int8).argmax(1)
        return CTCPrefixState(cand.r[:, :, rows, pos], cand.log_psi[rows, labels])
