"""Checkpoint conversion: fairseq names, Hugging Face dirs, merging, reports, shape errors."""
import re

import pytest
import torch

from espnet_ext.speecht5 import SpeechT5, load_speecht5_checkpoints
from espnet_ext.speecht5.convert import TEXT_EMBED_KEYS

# transformers' documented fairseq -> HF map (convert_speecht5_original_pytorch_checkpoint_to_pytorch.py),
# written here in the inverse direction, HF -> fairseq, independently of the converter's own tables
HF_TO_FAIRSEQ = [
    (r"speecht5\.encoder\.prenet\.feature_encoder\.conv_layers\.(\d+)\.conv\.", r"speech_encoder_prenet.feature_extractor.conv_layers.\1.0."),
    (r"speecht5\.encoder\.prenet\.feature_encoder\.conv_layers\.0\.layer_norm\.", "speech_encoder_prenet.feature_extractor.conv_layers.0.2."),
    (r"speecht5\.encoder\.prenet\.feature_projection\.layer_norm\.", "speech_encoder_prenet.layer_norm."),
    (r"speecht5\.encoder\.prenet\.feature_projection\.projection\.", "speech_encoder_prenet.post_extract_proj."),
    (r"speecht5\.encoder\.prenet\.pos_conv_embed\.conv\.parametrizations\.weight\.original0", "speech_encoder_prenet.pos_conv.0.weight_g"),
    (r"speecht5\.encoder\.prenet\.pos_conv_embed\.conv\.parametrizations\.weight\.original1", "speech_encoder_prenet.pos_conv.0.weight_v"),
    (r"speecht5\.encoder\.prenet\.pos_conv_embed\.conv\.bias", "speech_encoder_prenet.pos_conv.0.bias"),
    (r"speecht5\.encoder\.prenet\.masked_spec_embed", "speech_encoder_prenet.mask_emb"),
    (r"speecht5\.encoder\.prenet\.embed_tokens\.", "text_encoder_prenet.encoder_prenet.0."),
    (r"speecht5\.encoder\.prenet\.encode_positions\.alpha", "text_encoder_prenet.encoder_prenet.1.alpha"),
    (r"speecht5\.encoder\.wrapped_encoder\.layers\.(\d+)\.attention\.", r"encoder.layers.\1.self_attn."),
    (r"speecht5\.encoder\.wrapped_encoder\.layers\.(\d+)\.layer_norm\.", r"encoder.layers.\1.self_attn_layer_norm."),
    (r"speecht5\.encoder\.wrapped_encoder\.layers\.(\d+)\.feed_forward\.intermediate_dense\.", r"encoder.layers.\1.fc1."),
    (r"speecht5\.encoder\.wrapped_encoder\.layers\.(\d+)\.feed_forward\.output_dense\.", r"encoder.layers.\1.fc2."),
    (r"speecht5\.encoder\.wrapped_encoder\.layers\.(\d+)\.final_layer_norm\.", r"encoder.layers.\1.final_layer_norm."),
    (r"speecht5\.encoder\.wrapped_encoder\.layer_norm\.", "encoder.layer_norm."),
    (r"speecht5\.encoder\.wrapped_encoder\.embed_positions\.pe_k\.", "encoder.pos_emb.pe_k."),
    (r"speecht5\.decoder\.wrapped_decoder\.layers\.(\d+)\.feed_forward\.intermediate_dense\.", r"decoder.layers.\1.fc1."),
    (r"speecht5\.decoder\.wrapped_decoder\.layers\.(\d+)\.feed_forward\.output_dense\.", r"decoder.layers.\1.fc2."),
    (r"speecht5\.decoder\.wrapped_decoder\.layers\.(\d+)\.", r"decoder.layers.\1."),
    (r"speecht5\.decoder\.prenet\.embed_tokens\.", "text_decoder_prenet.embed_tokens."),
    (r"speecht5\.decoder\.prenet\.layers\.(\d+)\.", r"speech_decoder_prenet.decoder_prenet.0.0.prenet.\1.0."),
    (r"speecht5\.decoder\.prenet\.final_layer\.", "speech_decoder_prenet.decoder_prenet.0.1."),
    (r"speecht5\.decoder\.prenet\.encode_positions\.alpha", "speech_decoder_prenet.decoder_prenet.1.alpha"),
    (r"speecht5\.decoder\.prenet\.speaker_embeds_layer\.", "speech_decoder_prenet.spkembs_layer.0."),
    (r"speech_decoder_postnet\.layers\.(\d+)\.conv\.", r"speech_decoder_postnet.postnet.postnet.\1.0."),
    (r"speech_decoder_postnet\.layers\.(\d+)\.batch_norm\.", r"speech_decoder_postnet.postnet.postnet.\1.1."),
    (r"speech_decoder_postnet\.(feat_out|prob_out)\.", r"speech_decoder_postnet.\1."),
    (r"text_decoder_postnet\.lm_head\.", "text_decoder_postnet.output_projection."),
]


def to_fairseq_names(hf_state):
    out = {}
    for name, tensor in hf_state.items():
        for pattern, repl in HF_TO_FAIRSEQ:
            new, n = re.subn("^" + pattern, repl, name)
            if n:
                out[new] = tensor.clone()
                break
        else:
            raise AssertionError(f"test map misses {name}")
    return out


def fairseq_checkpoint(hf_asr_model, hf_tts_model, path, vocab=40, d_model=64, head_dim=16):
    """A SpeechT5 fairseq checkpoint: backbone + speech encoder from the ASR model, TTS nets from the TTS one."""
    state = to_fairseq_names(hf_asr_model.state_dict())
    tts = to_fairseq_names(hf_tts_model.state_dict())
    for name, tensor in tts.items():
        if name.startswith(("text_encoder_prenet.encoder_prenet.1", "speech_decoder_prenet.", "speech_decoder_postnet.")):
            state[name] = tensor
    embed = state["text_decoder_prenet.embed_tokens.weight"]
    state["text_encoder_prenet.encoder_prenet.0.weight"] = embed.clone()
    state["text_decoder_postnet.output_projection.weight"] = embed.clone()
    gen = torch.Generator().manual_seed(7)
    state["encoder.proj.weight"] = torch.randn(vocab, d_model, generator=gen)
    state["encoder.proj.bias"] = torch.randn(vocab, generator=gen)
    for side in ("encoder", "decoder"):
        state[f"{side}.version"] = torch.tensor([3.0])
        for i in range(2):
            state[f"{side}.layers.{i}.norm_k.weight"] = torch.ones(head_dim)
            state[f"{side}.layers.{i}.norm_k.bias"] = torch.zeros(head_dim)
    state["decoder.pos_emb.pe_k.weight"] = torch.randn(16, head_dim, generator=gen)
    state["speech_encoder_prenet.embed_positions._float_tensor"] = torch.tensor([0.0])
    state["projection_task.weight"] = torch.randn(d_model, d_model + 128, generator=gen)
    args = {
        "conv_feature_layers": "[(32, 10, 5)] + [(32, 3, 2)] * 2",
        "encoder_attention_heads": 4,
        "layer_norm_eps": 1e-5,
        "extractor_mode": "default",
    }
    torch.save({"model": state, "cfg": {"model": args}}, path)
    return state


@pytest.fixture(scope="module")
def fairseq_ckpt(hf_asr, hf_tts, tmp_path_factory):
    path = tmp_path_factory.mktemp("fairseq") / "checkpoint_best.pt"
    state = fairseq_checkpoint(hf_asr[0], hf_tts[0], path)
    return path, state


def test_fairseq_checkpoint_converts_to_the_same_tensors_as_the_hf_dirs(fairseq_ckpt, hf_asr, hf_tts):
    path, state = fairseq_ckpt
    from_fairseq = load_speecht5_checkpoints([str(path)])
    from_hf = load_speecht5_checkpoints([str(hf_asr[1]), str(hf_tts[1])])
    assert from_fairseq.backbone_state.keys() == from_hf.backbone_state.keys()
    for key, tensor in from_hf.backbone_state.items():
        assert torch.equal(from_fairseq.backbone_state[key], tensor), key
    assert from_fairseq.missing == [] and from_hf.missing == []
    # CTC head from encoder.proj
    assert torch.equal(from_fairseq.ctc_state["ctc_lo.weight"], state["encoder.proj.weight"])
    assert torch.equal(from_fairseq.ctc_state["ctc_lo.bias"], state["encoder.proj.bias"])
    assert from_hf.ctc_state == {}
    # same architecture; the frame padding follows the implementation of the source
    cfg_fairseq, cfg_hf = dict(from_fairseq.config), dict(from_hf.config)
    assert cfg_fairseq.pop("padding_mask_mode") == "reshape_all"
    assert cfg_hf.pop("padding_mask_mode") == "conv_lengths"
    for key in ("d_model", "vocab_size", "encoder_layers", "decoder_layers", "attention_heads", "ffn_dim",
                "conv_dim", "conv_kernel", "conv_stride", "pos_conv_kernel", "pos_conv_groups", "max_relative_position",
                "spk_embed_dim", "speech_decoder_prenet_units", "postnet_units", "reduction_factor", "num_mel_bins"):
        assert cfg_fairseq[key] == cfg_hf[key], key
    assert cfg_fairseq["attention_heads"] == 4 and cfg_fairseq["conv_stride"] == [5, 2, 2]
    # dropped names are reported with their reason; the task fusion weights are handed over
    dropped = "\n".join(from_fairseq.report)
    for name, reason in [
        ("encoder.layers.0.norm_k.weight", "norm_k"),
        ("decoder.pos_emb.pe_k.weight", "unused"),
        ("encoder.version", "bookkeeping"),
        ("speech_encoder_prenet.embed_positions._float_tensor", "computed"),
        ("projection_task.weight", "task fusion"),
    ]:
        assert re.search(re.escape(name) + ".*" + reason, dropped), name
    assert "projection_task.weight" in from_fairseq.extra_state
    assert len(from_fairseq.report) == 4 * 2 + 2 + 1 + 1 + 1  # norm_k (2 layers x w/b x 2 sides), versions, pe_k, _float_tensor, fusion


@torch.no_grad()
def test_fairseq_converted_model_matches_transformers_on_unpadded_input(fairseq_ckpt, hf_asr):
    converted = load_speecht5_checkpoints([str(fairseq_ckpt[0])])
    model = SpeechT5(converted.config).eval()
    model.load_state_dict(converted.backbone_state, strict=True)
    wav = torch.randn(1, 5000, generator=torch.Generator().manual_seed(3))
    ref = hf_asr[0].speecht5.encoder(input_values=wav).last_hidden_state
    x, pad_mask = model.encode_speech(wav, torch.tensor([5000]))
    assert not pad_mask.any()
    assert (x - ref).abs().max() < 1e-4


def test_merge_takes_backbone_from_first_and_speech_decoder_nets_from_second(hf_asr, hf_tts):
    asr_only = load_speecht5_checkpoints([str(hf_asr[1])])
    tts_only = load_speecht5_checkpoints([str(hf_tts[1])])
    merged = load_speecht5_checkpoints([str(hf_asr[1]), str(hf_tts[1])])
    for key, tensor in merged.backbone_state.items():
        if key.startswith(("encoder.", "decoder.", "speech_encoder_prenet.")) or key in TEXT_EMBED_KEYS:
            assert torch.equal(tensor, asr_only.backbone_state[key]), key
            assert merged.origin[key] == str(hf_asr[1])
        else:  # speech decoder pre/post-nets and the text encoder pre-net's alpha exist only in TTS
            assert torch.equal(tensor, tts_only.backbone_state[key]), key
            assert merged.origin[key] == str(hf_tts[1])
    assert any(k.startswith("speech_decoder_postnet.postnet.") for k in merged.backbone_state)
    # every TTS backbone tensor that lost to the ASR one is reported, naming where the winner came from
    lost = [line for line in merged.report if line.startswith(str(hf_tts[1]))]
    n_tts_backbone = sum(1 for k in tts_only.backbone_state if k.startswith(("encoder.", "decoder.")))
    assert len(lost) == n_tts_backbone + 1  # + the TTS text embedding
    assert all(f"already taken from {hf_asr[1]}" in line for line in lost)
    # the single sources report what the other task would need as missing
    assert "speech_decoder_prenet.final_layer.weight" in asr_only.missing
    assert "speech_encoder_prenet.pos_conv.weight_v" in tts_only.missing and merged.missing == []

    reverse = load_speecht5_checkpoints([str(hf_tts[1]), str(hf_asr[1])])
    key = "encoder.layers.0.fc1.weight"
    assert torch.equal(reverse.backbone_state[key], tts_only.backbone_state[key])
    assert not torch.equal(reverse.backbone_state[key], asr_only.backbone_state[key])


def test_shape_mismatch_raises_naming_the_parameter(fairseq_ckpt, tmp_path):
    ckpt = torch.load(fairseq_ckpt[0], weights_only=True)
    ckpt["model"]["decoder.layers.1.fc1.weight"] = ckpt["model"]["decoder.layers.1.fc1.weight"][:100]
    path = tmp_path / "bad.pt"
    torch.save(ckpt, path)
    with pytest.raises(ValueError, match=r"decoder\.layers\.1\.fc1\.weight"):
        load_speecht5_checkpoints([str(path)])


def test_explicit_config_is_checked_against_the_weights(hf_asr):
    converted = load_speecht5_checkpoints([str(hf_asr[1])])
    with pytest.raises(ValueError, match=r"text_encoder_prenet\.embed_tokens\.weight"):
        load_speecht5_checkpoints([str(hf_asr[1])], config={**converted.config, "vocab_size": 41})
    same = load_speecht5_checkpoints([str(hf_asr[1])], config=converted.config)
    assert same.config == converted.config


def test_old_fairseq_checkpoint_with_argparse_args_loads(fairseq_ckpt, tmp_path):
    import argparse

    ckpt = torch.load(fairseq_ckpt[0], weights_only=True)
    args = argparse.Namespace(conv_feature_layers="[(32, 10, 5)] + [(32, 3, 2)] * 2", encoder_attention_heads=4)
    path = tmp_path / "old.pt"
    torch.save({"model": ckpt["model"], "args": args}, path)
    converted = load_speecht5_checkpoints([str(path)])
    assert converted.config["conv_stride"] == [5, 2, 2]
    assert converted.backbone_state.keys() == load_speecht5_checkpoints([str(fairseq_ckpt[0])]).backbone_state.keys()


def test_fairseq_checkpoint_with_non_tensor_objects_falls_back_to_full_unpickling(fairseq_ckpt, tmp_path):
    import numpy as np

    ckpt = torch.load(fairseq_ckpt[0], weights_only=True)
    ckpt["extra_state"] = {"best": np.float64(3.5)}  # what fairseq's trainer stores
    path = tmp_path / "with_extra.pt"
    torch.save(ckpt, path)
    converted = load_speecht5_checkpoints([str(path)])
    assert any("full unpickling" in line for line in converted.report)
    assert converted.missing == []
