"""Speaker embeddings: resemblyzer d-vectors (offline default) and speechbrain x-vectors."""
from espnet_ext.speaker.embedding import SpeakerEmbedder, build_embedder

__all__ = ["SpeakerEmbedder", "build_embedder"]
