"""Random-weight transformers SpeechT5 models (tiny config) saved as HF dirs, and their conversions."""
import pytest
import torch

TINY_HF = dict(
    vocab_size=40,
    hidden_size=64,
    encoder_layers=2,
    decoder_layers=2,
    encoder_attention_heads=4,
    decoder_attention_heads=4,
    encoder_ffn_dim=128,
    decoder_ffn_dim=128,
    conv_dim=(32, 32, 32),
    conv_kernel=(10, 3, 3),
    conv_stride=(5, 2, 2),
    num_conv_pos_embeddings=16,
    num_conv_pos_embedding_groups=4,
    encoder_max_relative_position=8,  # small, so that clipping of distances is exercised
    speech_decoder_prenet_units=32,
    speaker_embedding_dim=16,
    speech_decoder_postnet_units=32,
    max_speech_positions=500,
    max_text_positions=100,
)


def hf_config(**overrides):
    from transformers import SpeechT5Config as HFConfig

    return HFConfig(**{**TINY_HF, **overrides})


def randomize_hf(model, seed):
    """Give the parameters that init leaves at constants (alphas, BatchNorm stats) random values."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, module in model.named_modules():
            if hasattr(module, "alpha") and isinstance(module.alpha, torch.nn.Parameter):
                module.alpha.fill_(0.5 + float(torch.rand((), generator=gen)))
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.normal_(0, 0.3, generator=gen)
                module.running_var.uniform_(0.5, 1.5, generator=gen)
                module.weight.normal_(1, 0.2, generator=gen)
                module.bias.normal_(0, 0.2, generator=gen)
            if isinstance(module, torch.nn.LayerNorm):
                module.weight.normal_(1, 0.2, generator=gen)
                module.bias.normal_(0, 0.2, generator=gen)
    return model.eval()


def disable_hf_prenet_dropout(model):
    """transformers' speech decoder pre-net dropout is random even in eval: make it the identity."""
    model.speecht5.decoder.prenet._consistent_dropout = lambda x, p: x


@pytest.fixture(scope="session")
def hf_asr(tmp_path_factory):
    """(SpeechT5ForSpeechToText in eval mode, its save_pretrained dir)."""
    from transformers import SpeechT5ForSpeechToText

    torch.manual_seed(0)
    # large init and an eos row close to a frequent token's: greedy decoding then emits varied
    # tokens and one hypothesis stops early (checked in the greedy parity test)
    model = randomize_hf(SpeechT5ForSpeechToText(hf_config(initializer_range=0.35)), seed=1)
    with torch.no_grad():
        embed = model.speecht5.decoder.prenet.embed_tokens.weight  # tied with lm_head
        embed.mul_(0.3)
        embed[2] = 1.05 * embed[21]
    path = tmp_path_factory.mktemp("hf_asr")
    model.save_pretrained(path)
    return model, path


@pytest.fixture(scope="session")
def hf_tts(tmp_path_factory):
    """(SpeechT5ForTextToSpeech in eval mode, pre-net dropout off, its save_pretrained dir)."""
    from transformers import SpeechT5ForTextToSpeech

    torch.manual_seed(2)
    model = randomize_hf(SpeechT5ForTextToSpeech(hf_config()), seed=3)
    with torch.no_grad():  # a stop logit that drifts upwards over the steps (the other is off), so
        # that the two test utterances stop at different steps (11 and 18) well before maxlen
        prob_out = model.speech_decoder_postnet.prob_out
        prob_out.weight[0].mul_(-20.0)
        prob_out.bias[0] = 0.0
        prob_out.weight[1] = 0.0
        prob_out.bias[1] = -20.0
    path = tmp_path_factory.mktemp("hf_tts")
    model.save_pretrained(path)
    disable_hf_prenet_dropout(model)
    return model, path


def build_ours(paths):
    from espnet_ext.speecht5 import SpeechT5, load_speecht5_checkpoints

    converted = load_speecht5_checkpoints([str(p) for p in paths])
    model = SpeechT5(converted.config)
    model.load_state_dict(converted.backbone_state, strict=False)
    model.speech_decoder_prenet.dropout_at_inference = False
    return model.eval(), converted


@pytest.fixture(scope="session")
def ours_asr(hf_asr):
    return build_ours([hf_asr[1]])


@pytest.fixture(scope="session")
def ours_tts(hf_tts):
    return build_ours([hf_tts[1]])
