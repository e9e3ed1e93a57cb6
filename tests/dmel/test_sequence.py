"""Sequence layout and loss targets, on hand-made sequences."""
import torch

from espnet_ext.dmel.sequence import (
    ASR,
    TTS,
    add_bos_eos,
    assemble,
    context_mask,
    prediction_states,
    segment_starts,
    target_mask,
)


def test_add_bos_eos_wraps_each_sequence_within_its_length():
    ids = torch.tensor([[5, 6, 7], [8, -1, -1]])
    out, n = add_bos_eos(ids, torch.tensor([3, 1]), bos=0, eos=2)
    assert out.tolist() == [[0, 5, 6, 7, 2], [0, 8, 2, -1, -1]]
    assert n.tolist() == [5, 3]


def layout_example():
    """Row 0 TTS: spk, text (3), speech (3); row 1 ASR: speech (4), text (2). Embeddings are labels."""
    text = (100 + torch.arange(3.0))[None, :, None].repeat(2, 1, 1)
    speech = (200 + torch.arange(4.0))[None, :, None].repeat(2, 1, 1)
    spk = torch.full((2, 1, 1), 300.0)
    jobs = torch.tensor([TTS, ASR])
    n_text, n_speech = torch.tensor([3, 2]), torch.tensor([3, 4])
    return assemble(text, n_text, speech, n_speech, jobs, spk), jobs, n_text, n_speech


def test_tts_is_speaker_text_speech_and_asr_is_speech_text_with_right_padding():
    (x, starts), *_ = layout_example()
    assert x[..., 0].tolist() == [
        [300, 100, 101, 102, 200, 201, 202],
        [200, 201, 202, 203, 100, 101, 0],
    ]
    assert starts["text"].tolist() == [1, 4] and starts["speech"].tolist() == [4, 0]
    assert starts["total"].tolist() == [7, 6]


def test_asr_never_gets_a_speaker_position():
    starts = segment_starts(torch.tensor([ASR]), torch.tensor([5]), torch.tensor([9]), has_spk=True)
    assert starts["text"].tolist() == [9] and starts["total"].tolist() == [14]


def test_targets_are_read_one_position_before_each_target_token():
    (x, starts), jobs, n_text, n_speech = layout_example()
    # TTS row: speech tokens 1, 2 (frame, eos frame) are predicted from positions 4, 5 (<BOS>, frame)
    states = prediction_states(x, starts["speech"], 4)[..., 0]
    mask = target_mask(n_speech, 4, jobs == TTS)
    assert mask.tolist() == [[True, True, False], [False, False, False]]
    assert states[0, :2].tolist() == [200, 201]
    # ASR row: text tokens 1 (<eos>) is predicted from the text <bos> at position 4
    states = prediction_states(x, starts["text"], 3)[..., 0]
    mask = target_mask(n_text, 3, jobs == ASR)
    assert mask.tolist() == [[False, False], [True, False]]
    assert states[1, 0].item() == 100


def test_context_mask_covers_content_tokens_only():
    # lengths include bos and eos: 5 -> tokens 1..3 are content; 2 -> none
    assert context_mask(torch.tensor([5, 2]), 6).tolist() == [
        [False, True, True, True, False, False],
        [False, False, False, False, False, False],
    ]
