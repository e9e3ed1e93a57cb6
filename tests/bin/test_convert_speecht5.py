"""convert_speecht5 CLI: random-weight transformers SpeechT5 models -> STTATTS dirs, numerically equal."""
import numpy as np
import pytest
import torch

from espnet_ext.bin.convert_speecht5 import convert, main
from espnet_ext.bin.make_token_list import HEAD, TAIL
from espnet_ext.bin.sttatts_inference import Speech2Text, Text2Speech
from espnet_ext.tasks.sttatts import STTATTSTask

TOKENS = [*HEAD, *"▁abcdefghijklmnopqrstuvwxyz'", *TAIL]
HF_TINY = dict(
    vocab_size=len(TOKENS), hidden_size=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2,
    decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, conv_dim=(16, 16, 16), conv_kernel=(10, 8, 8),
    conv_stride=(5, 8, 8), num_conv_pos_embeddings=8, num_conv_pos_embedding_groups=2, encoder_max_relative_position=16,
    speech_decoder_prenet_units=16, speaker_embedding_dim=8, speech_decoder_postnet_units=16,
    speech_decoder_postnet_layers=2, max_speech_positions=400, max_text_positions=100,
)


def _hf(cls, seed):
    from transformers import SpeechT5Config

    torch.manual_seed(seed)
    model = cls(SpeechT5Config(**HF_TINY)).eval()
    with torch.no_grad():  # non-trivial norms and post-net statistics
        for m in model.modules():
            if isinstance(m, (torch.nn.LayerNorm, torch.nn.BatchNorm1d)):
                m.weight.normal_(1.0, 0.2)
                m.bias.normal_(0.0, 0.2)
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.normal_(0.0, 0.3)
                m.running_var.uniform_(0.5, 1.5)
    return model


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    from transformers import SpeechT5ForSpeechToText, SpeechT5ForTextToSpeech

    root = tmp_path_factory.mktemp("speecht5")
    tokens = root / "tokens.txt"
    tokens.write_text("".join(t + "\n" for t in TOKENS))
    asr, tts = _hf(SpeechT5ForSpeechToText, 0), _hf(SpeechT5ForTextToSpeech, 1)
    asr.save_pretrained(root / "hf_asr")
    tts.save_pretrained(root / "hf_tts")
    return dict(root=root, tokens=tokens, asr=asr, tts=tts)


def test_asr_conversion_matches_transformers(sources, tmp_path, capsys):
    out = tmp_path / "asr"
    assert main(["--src", str(sources["root"] / "hf_asr"), "--token_list", str(sources["tokens"]), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "ctc.ctc_lo.*: random initialisation" in printed  # HF models have no CTC head
    assert "task_fusion.proj.*: identity initialisation" in printed
    model, _ = STTATTSTask.build_model_from_file(out / "config.yaml", out / "model.pth")
    model.eval()
    hf = sources["asr"]
    torch.manual_seed(0)
    wav = 0.1 * torch.randn(2, 12000)
    wav[1, 9000:] = 0.0
    lengths = torch.tensor([12000, 9000])
    attention = (torch.arange(12000)[None] < lengths[:, None]).long()
    prev = torch.tensor([[2, 5, 9, 4, 12], [2, 7, 7, 30, 4]])
    with torch.no_grad():
        enc, pad_mask, memory = model.encode("asr", wav, lengths)
        ref = hf.speecht5.encoder(input_values=wav, attention_mask=attention).last_hidden_state
        valid = ~pad_mask
        assert float((enc - ref)[valid].abs().max()) < 1e-4
        logits, _, _ = model.decode_text(prev, memory, pad_mask)
        ref_logits = hf(input_values=wav, attention_mask=attention, decoder_input_ids=prev).logits
        assert float((logits - ref_logits).abs().max()) < 1e-4
        generated = hf.generate(wav[:1], attention_mask=attention[:1], max_new_tokens=enc.size(1), num_beams=1, do_sample=False)
    s2t = Speech2Text(out / "config.yaml", out / "model.pth", beam_size=1, ctc_weight=0.0)
    text, tokens, ids, hyp = s2t(wav[0].numpy())[0]
    expected = [int(i) for i in generated[0, 1:] if int(i) not in (2, 1)]
    assert ids == expected and len(ids) > 0
    assert text == s2t.converter.ids2text(expected)


def test_tts_conversion_matches_transformers_generate_speech(sources, tmp_path):
    out = tmp_path / "tts"
    convert([str(sources["root"] / "hf_tts")], str(sources["tokens"]), out)
    hf = sources["tts"]
    hf.speecht5.decoder.prenet._consistent_dropout = lambda x, p: x  # HF's pre-net dropout ignores eval()
    ids = [9, 6, 13, 13, 16, 4, 2]
    spk = torch.randn(8)
    with torch.no_grad():  # threshold 10 is never met: both run to maxlen = int(7 * 2.0 / 2) = 7 steps
        ref = hf.generate_speech(torch.tensor([ids]), spk[None], threshold=10.0, maxlenratio=2.0)
    tts = Text2Speech(out / "config.yaml", out / "model.pth", threshold=10.0, maxlenratio=2.0, use_prenet_dropout=False)
    result = tts(ids, spembs=spk.numpy())
    assert tuple(result["feat_gen"].shape) == tuple(ref.shape) == (14, 80)
    assert float((result["feat_gen"] - ref).abs().max()) < 1e-4


def test_sources_merge_and_sttatts_task_fusion_and_ctc_load(sources, tmp_path):
    d = 32
    extras = {
        "projection_task.weight": torch.randn(d, d + 128),
        "projection_task.bias": torch.randn(d),
        "encoder.proj.weight": torch.randn(len(TOKENS), d),
        "encoder.proj.bias": torch.randn(len(TOKENS)),
    }
    sttatts_pt = tmp_path / "sttatts_extras.pt"
    torch.save({"model": extras}, sttatts_pt)
    out = tmp_path / "merged"
    lines = convert([str(sources["root"] / "hf_asr"), str(sources["root"] / "hf_tts"), str(sttatts_pt)], str(sources["tokens"]), out)
    model, _ = STTATTSTask.build_model_from_file(out / "config.yaml", out / "model.pth")
    asr, tts = sources["asr"].state_dict(), sources["tts"].state_dict()
    enc_key = "speecht5.encoder.wrapped_encoder.layers.0.feed_forward.intermediate_dense.weight"
    assert torch.equal(model.backbone.encoder.layers[0].fc1.weight, asr[enc_key])  # backbone: the first source
    assert torch.equal(model.backbone.speech_decoder_postnet.feat_out.weight, tts["speech_decoder_postnet.feat_out.weight"])
    assert torch.equal(model.task_fusion.proj.weight, extras["projection_task.weight"])
    assert torch.equal(model.ctc.ctc_lo.weight, extras["encoder.proj.weight"])
    assert any("already taken" in line for line in lines)
    assert not any("projection_task" in line for line in lines)
    assert not any("ctc.ctc_lo" in line for line in lines)


def test_speaker_embedding_size_can_change_at_conversion(sources, tmp_path):
    lines = convert([str(sources["root"] / "hf_tts")], str(sources["tokens"]), tmp_path / "spk", spk_embed_dim=4)
    model, args = STTATTSTask.build_model_from_file(tmp_path / "spk" / "config.yaml", tmp_path / "spk" / "model.pth")
    layer = model.backbone.speech_decoder_prenet.speaker_embeds_layer.weight
    source = sources["tts"].state_dict()["speecht5.decoder.prenet.speaker_embeds_layer.weight"]
    assert tuple(layer.shape) == (32, 36) and args.backbone_conf["spk_embed_dim"] == 4
    assert torch.equal(layer[:, :32], source[:, :32])
    assert any("speaker columns newly initialised" in line for line in lines)


def test_a_token_list_of_another_size_is_refused(sources, tmp_path):
    short = tmp_path / "short.txt"
    short.write_text("".join(t + "\n" for t in TOKENS[:-1]))
    with pytest.raises(ValueError, match="checkpoint's dictionary"):
        convert([str(sources["root"] / "hf_asr")], str(short), tmp_path / "x")


def test_a_task_fusion_shape_mismatch_names_the_parameter(sources, tmp_path):
    bad = tmp_path / "bad.pt"
    torch.save({"model": {"projection_task.weight": torch.randn(32, 100), "projection_task.bias": torch.randn(32)}}, bad)
    with pytest.raises(ValueError, match="task_fusion.proj.weight"):
        convert([str(sources["root"] / "hf_asr"), str(bad)], str(sources["tokens"]), tmp_path / "y")
