"""Audio I/O for data preparation: reading any rate/channel count, resampling, formatting."""
