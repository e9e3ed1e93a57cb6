"""Speaker embedding extractors behind one interface: 16 kHz mono waveform -> unit-norm vector.

- ``dvector``: resemblyzer's bundled VoiceEncoder (256-d), offline, the default.
- ``xvector``: speechbrain's ``spkrec-xvect-voxceleb`` (512-d, as SpeechT5), for users who have
  its files on disk (``model_dir``); nothing is downloaded.
"""
from functools import lru_cache

import numpy as np

DIMS = {"dvector": 256, "xvector": 512}


class SpeakerEmbedder:
    """Callable: waveform (S,) float at ``fs`` Hz -> embedding (dim,) float32, L2-normalised."""

    name = ""
    dim = 0

    def __call__(self, wav: np.ndarray, fs: int) -> np.ndarray:
        raise NotImplementedError


class DVectorEmbedder(SpeakerEmbedder):
    name, dim = "dvector", DIMS["dvector"]

    def __init__(self, device: str = "cpu"):
        from resemblyzer import VoiceEncoder

        self.encoder = VoiceEncoder(device=device, verbose=False)

    def __call__(self, wav, fs):
        from resemblyzer import preprocess_wav

        processed = preprocess_wav(np.asarray(wav, dtype=np.float32), source_sr=fs)
        if processed.size == 0:  # all silence after VAD trimming: embed the raw signal instead
            processed = np.asarray(wav, dtype=np.float32)
        return self.encoder.embed_utterance(processed).astype(np.float32)


class XVectorEmbedder(SpeakerEmbedder):
    name, dim = "xvector", DIMS["xvector"]

    def __init__(self, model_dir: str, device: str = "cpu"):
        if not model_dir:
            raise ValueError("x-vectors need --spk_model_dir: a local copy of speechbrain/spkrec-xvect-voxceleb")
        try:
            from speechbrain.inference.speaker import EncoderClassifier
        except ImportError as err:
            raise ImportError("x-vectors need the 'speechbrain' package (pip install speechbrain)") from err
        self.model = EncoderClassifier.from_hparams(source=model_dir, savedir=model_dir, run_opts={"device": device})

    def __call__(self, wav, fs):
        import torch

        if fs != 16000:
            raise ValueError(f"x-vector extractor expects 16 kHz audio, got {fs} Hz")
        with torch.no_grad():
            emb = self.model.encode_batch(torch.as_tensor(wav, dtype=torch.float32)[None])
        emb = emb.reshape(-1).cpu().numpy()
        return (emb / max(np.linalg.norm(emb), 1e-12)).astype(np.float32)


@lru_cache(maxsize=4)
def build_embedder(kind: str = "dvector", model_dir: str = "", device: str = "cpu") -> SpeakerEmbedder:
    """One extractor per (kind, model_dir, device) and process: loading it costs seconds."""
    if kind == "dvector":
        return DVectorEmbedder(device)
    if kind == "xvector":
        return XVectorEmbedder(model_dir, device)
    raise ValueError(f"unknown speaker embedding {kind!r}; known: {', '.join(DIMS)}")
