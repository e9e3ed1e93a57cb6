"""One-off parity check at SpeechT5-base size: random transformers models -> save_pretrained -> convert -> compare.

    OMP_NUM_THREADS=2 tools/venv/bin/python benchmarks/parity_speecht5_base.py

Prints the max |diff| of the encoder output, ASR teacher-forcing logits, TTS mel/stop outputs
(padded batches, valid positions only), whether greedy ASR ids are identical, and the max |diff|
of generated TTS frames (pre-net dropout off on both sides). Every figure is checked (differences
<= TOLERANCE, ids and frame counts exact); any mismatch prints INVALID and exits with status 1.
Takes about a minute on 2 cores.
"""
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import common  # noqa: E402  (first: sets OMP_WAIT_POLICY before torch loads)
import torch  # noqa: E402

from espnet_ext.speecht5 import SpeechT5, load_speecht5_checkpoints  # noqa: E402
from espnet_ext.speecht5.generate import greedy_decode_text, synthesize_speech  # noqa: E402

# max |difference| of float outputs computed by the two implementations of the same network:
# float32 summation order over 12 + 6 layers; a wrong weight mapping or mask is off by 1e-2 or more
TOLERANCE = 1e-4


def convert(path):
    converted = load_speecht5_checkpoints([path])
    model = SpeechT5(converted.config)
    model.load_state_dict(converted.backbone_state, strict=False)
    model.speech_decoder_prenet.dropout_at_inference = False
    return model.eval(), converted


def valid_diff(a, b, pad_mask):
    return (a[~pad_mask] - b[~pad_mask]).abs().max().item()


@torch.no_grad()
def main():
    from transformers import SpeechT5Config as HFConfig
    from transformers import SpeechT5ForSpeechToText, SpeechT5ForTextToSpeech

    start = time.time()
    torch.manual_seed(0)
    hf_cfg = HFConfig()  # base: d 768, 12 + 6 layers, vocab 81
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        hf = SpeechT5ForSpeechToText(hf_cfg).eval()
        hf.save_pretrained(tmp)
        ours, converted = convert(tmp)
        print("ASR conversion: missing", len(converted.missing), "report lines", len(converted.report))
        lengths = torch.tensor([32000, 20800])  # 2.0 s and 1.3 s at 16 kHz
        wav = torch.randn(2, 32000)
        wav[1, 20800:] = 0
        attention_mask = (torch.arange(32000)[None] < lengths[:, None]).long()
        ref_enc = hf.speecht5.encoder(input_values=wav, attention_mask=attention_mask).last_hidden_state
        memory, pad_mask = ours.encode_speech(wav, lengths)
        results["speech encoder output"] = valid_diff(memory, ref_enc, pad_mask)
        prev = torch.randint(3, 81, (2, 12))
        prev[:, 0] = 2
        ref_logits = hf(input_values=wav, attention_mask=attention_mask, decoder_input_ids=prev).logits
        logits, _, _ = ours.decode_text(prev, memory, pad_mask)
        results["ASR teacher-forcing logits"] = (logits - ref_logits).abs().max().item()
        ref_ids = hf.generate(
            input_values=wav, attention_mask=attention_mask, max_new_tokens=20, num_beams=1, do_sample=False
        )
        ids = greedy_decode_text(ours, memory, pad_mask, max_new_tokens=20)
        results["ASR greedy ids identical"] = ids.shape == ref_ids.shape and bool(torch.equal(ids, ref_ids))
        print("greedy ids:", ids.tolist())
        del hf, ours

    with tempfile.TemporaryDirectory() as tmp:
        hf = SpeechT5ForTextToSpeech(hf_cfg).eval()
        with torch.no_grad():
            hf.speech_decoder_postnet.prob_out.bias.fill_(-10.0)  # never stop: generate to maxlen
        hf.save_pretrained(tmp)
        hf.speecht5.decoder.prenet._consistent_dropout = lambda x, p: x
        ours, converted = convert(tmp)
        print("TTS conversion: missing", len(converted.missing), "report lines", len(converted.report))
        text_lengths = torch.tensor([40, 25])
        tokens = torch.randint(4, 81, (2, 40))
        tokens[1, 25:] = 1
        spembs = torch.randn(2, 512)
        prev_mel = torch.randn(2, 30, 80)
        prev_mel[:, 0] = 0
        out = hf.speecht5(input_values=tokens, attention_mask=(tokens != 1).long(), decoder_input_values=prev_mel,
                          speaker_embeddings=spembs)
        ref_before, ref_after, ref_stop = hf.speech_decoder_postnet(out.last_hidden_state)
        text_memory, text_pad = ours.encode_text(tokens, text_lengths)
        results["text encoder output"] = valid_diff(text_memory, out.encoder_last_hidden_state, text_pad)
        before, after, stop, _, _ = ours.decode_speech(prev_mel, spembs, text_memory, text_pad)
        results["TTS teacher-forcing mel before postnet"] = (before - ref_before).abs().max().item()
        results["TTS teacher-forcing mel after postnet"] = (after - ref_after).abs().max().item()
        results["TTS teacher-forcing stop logits"] = (stop - ref_stop).abs().max().item()
        ref_mel = hf.generate_speech(tokens[:1, :40], spembs[:1], threshold=0.5, maxlenratio=2.0)
        gen = synthesize_speech(ours, text_memory[:1], text_pad[:1], spembs[:1], maxlenratio=2.0, stop_rule="sum")
        results["TTS generated frames (ours, transformers)"] = (gen[0]["feat_after"].size(0), ref_mel.size(0))
        results["TTS generated mel"] = (gen[0]["feat_after"] - ref_mel).abs().max().item()

    for name, value in results.items():
        if isinstance(value, float):
            check = common.within("outputs", value, TOLERANCE)
        elif isinstance(value, tuple):  # (ours, transformers)
            check = common.OutputCheck("values", value[0] == value[1], "exact", str(value))
        else:
            check = common.exact("values", value)
        common.check_outputs(f"{name:45s}", check)
    common.footer(start)


if __name__ == "__main__":
    main()
