"""Stage 2 on bad and unusual input: convert what can be used, drop and report the rest."""
import numpy as np
import soundfile as sf

from espnet_ext.bin.format_audio import main
from espnet_ext.corpora.data_dir import read_kv


def _tone(fs, seconds=0.5, channels=1):
    t = np.arange(int(fs * seconds)) / fs
    wav = 0.3 * np.sin(2 * np.pi * 220 * t).astype(np.float32)
    return np.stack([wav] * channels, axis=1) if channels > 1 else wav


def test_converts_rates_and_channels_and_reports_every_drop(tmp_path):
    src, data = tmp_path / "src", tmp_path / "data"
    src.mkdir()
    data.mkdir()
    entries = {}
    for fs in (8000, 22050, 44100, 48000, 16000):
        sf.write(src / f"s-{fs}.wav", _tone(fs), fs)
        entries[f"s-{fs}"] = src / f"s-{fs}.wav"
    sf.write(src / "s-stereo.flac", _tone(44100, channels=2), 44100)
    entries["s-stereo"] = src / "s-stereo.flac"
    (src / "s-corrupt.wav").write_bytes(b"RIFF\x00\x00garbage" * 10)
    entries["s-corrupt"] = src / "s-corrupt.wav"
    good = (src / "s-16000.wav").read_bytes()
    (src / "s-trunc.wav").write_bytes(good[:30])  # header cut mid-way
    entries["s-trunc"] = src / "s-trunc.wav"
    sf.write(src / "s-empty.wav", np.zeros(0, dtype=np.float32), 16000)
    entries["s-empty"] = src / "s-empty.wav"
    sf.write(src / "s-short.wav", _tone(16000, seconds=0.01), 16000)
    entries["s-short"] = src / "s-short.wav"
    entries["s-missing"] = src / "nope.wav"
    sf.write(src / "s-notext.wav", _tone(16000), 16000)
    entries["s-notext"] = src / "s-notext.wav"
    (data / "wav.scp").write_text("".join(f"{k} {v}\n" for k, v in sorted(entries.items())))
    (data / "text").write_text("".join(f"{k} {'' if k == 's-notext' else 'hello'}\n" for k in sorted(entries)))
    (data / "utt2spk").write_text("".join(f"{k} s\n" for k in sorted(entries)))

    assert main(["--in", str(data), "--out", str(tmp_path / "dump"), "--nj", "1"]) == 0
    dump = tmp_path / "dump"
    kept = read_kv(dump / "wav.scp")
    assert sorted(kept) == ["s-16000", "s-22050", "s-44100", "s-48000", "s-8000", "s-stereo"]
    for utt, path in kept.items():
        info = sf.info(path)
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16"), utt
        assert abs(info.frames - 8000) <= 2, utt  # 0.5 s at 16 kHz, whatever the input rate
    dropped = read_kv(dump / "dropped.txt")
    assert set(dropped) == {"s-corrupt", "s-trunc", "s-empty", "s-short", "s-missing", "s-notext"}
    assert dropped["s-missing"].startswith("audio file missing") and "nope.wav" in dropped["s-missing"]
    assert dropped["s-corrupt"].startswith("unreadable audio") and "s-corrupt.wav" in dropped["s-corrupt"]
    assert dropped["s-short"].startswith("too short")
    assert dropped["s-notext"] == "empty text"
    assert read_kv(dump / "spk2utt") == {"s": " ".join(sorted(kept))}
    assert read_kv(dump / "utt2num_samples")["s-8000"] in ("7999", "8000", "8001")

    # Stereo is averaged, not one channel taken: a resampled tone of the same amplitude.
    stereo, _ = sf.read(kept["s-stereo"])
    assert 0.25 < np.abs(stereo).max() < 0.35

    first = {k: (dump / "data" / f"{k}.wav").read_bytes() for k in kept}
    assert main(["--in", str(data), "--out", str(dump), "--nj", "2"]) == 0
    assert first == {k: (dump / "data" / f"{k}.wav").read_bytes() for k in kept}
    assert not list(dump.rglob("*.tmp*"))


def test_vc_targets_are_formatted_and_a_bad_target_drops_its_pair(tmp_path):
    src, data = tmp_path / "src", tmp_path / "data"
    src.mkdir()
    data.mkdir()
    for name, fs in (("a", 16000), ("v1", 16000), ("v1t", 48000), ("v2", 16000)):
        sf.write(src / f"{name}.wav", _tone(fs), fs)
    (data / "wav.scp").write_text(f"s-a {src / 'a.wav'}\ns-v1 {src / 'v1.wav'}\ns-v2 {src / 'v2.wav'}\n")
    (data / "tgt_wav.scp").write_text(f"s-v1 {src / 'v1t.wav'}\ns-v2 {src / 'missing.wav'}\n")
    (data / "text").write_text("s-a x\ns-v1 x\ns-v2 x\n")
    (data / "utt2spk").write_text("s-a s\ns-v1 s\ns-v2 s\n")
    (data / "utt2category").write_text("s-a asr\ns-v1 vc\ns-v2 vc\n")
    assert main(["--in", str(data), "--out", str(tmp_path / "dump"), "--nj", "1"]) == 0
    dump = tmp_path / "dump"
    assert sorted(read_kv(dump / "wav.scp")) == ["s-a", "s-v1"]  # the ASR utterance needs no target
    tgt = read_kv(dump / "tgt_wav.scp")
    assert list(tgt) == ["s-v1"] and sf.info(tgt["s-v1"]).samplerate == 16000
    assert read_kv(dump / "dropped.txt")["s-v2"].startswith("target speech: audio file missing")
