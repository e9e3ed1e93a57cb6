import kaldiio
import numpy as np
import soundfile as sf

from espnet_ext.bin.extract_spk_embed import main


def test_dvectors_per_utterance_and_speaker_means(tmp_path, espeak_speech):
    # Sentences of ~4 s: on 2 s ones d-vectors of espeak voices still mix content and voice.
    sentences = [
        "the quick brown fox jumps over the lazy dog and runs away into the forest",
        "she sells sea shells by the sea shore every single morning in the summer",
    ]
    voices = {"m": "en-us+m3", "f": "en-gb+f4"}
    wav_scp, utt2spk = [], []
    for spk, voice in voices.items():
        for i, text in enumerate(sentences):
            utt = f"{spk}-{i}"
            sf.write(tmp_path / f"{utt}.wav", espeak_speech(text, voice), 16000)
            wav_scp.append(f"{utt} {tmp_path / f'{utt}.wav'}")
            utt2spk.append(f"{utt} {spk}")
    (tmp_path / "wav.scp").write_text("\n".join(wav_scp) + "\n")
    (tmp_path / "utt2spk").write_text("\n".join(utt2spk) + "\n")

    assert main(["--data", str(tmp_path)]) == 0
    utt = kaldiio.load_scp(str(tmp_path / "dvector.scp"))
    spk = kaldiio.load_scp(str(tmp_path / "spk_dvector.scp"))
    assert sorted(utt) == ["f-0", "f-1", "m-0", "m-1"] and sorted(spk) == ["f", "m"]
    vec = {k: utt[k] for k in utt}
    assert all(v.shape == (256,) and abs(np.linalg.norm(v) - 1) < 1e-4 for v in vec.values())
    same = float(vec["m-0"] @ vec["m-1"])
    cross = float(vec["m-0"] @ vec["f-0"])
    assert same > cross  # the same voice on another sentence is closer than another voice
    mean_m = (vec["m-0"] + vec["m-1"]) / np.linalg.norm(vec["m-0"] + vec["m-1"])
    np.testing.assert_allclose(spk["m"], mean_m, atol=1e-6)

    # A rerun reuses the complete scp (same bytes), and no temporary file is left.
    before = (tmp_path / "dvector.ark").read_bytes()
    assert main(["--data", str(tmp_path)]) == 0
    assert (tmp_path / "dvector.ark").read_bytes() == before
    assert not list(tmp_path.glob("*.tmp"))

    # Only TTS/VC utterances need a vector: the others get zeros; two workers give the same vectors.
    (tmp_path / "utt2category").write_text("f-0 asr\nf-1 asr\nm-0 tts\nm-1 tts\n")
    assert main(["--data", str(tmp_path), "--overwrite", "--categories", "tts", "vc", "--nj", "2"]) == 0
    again = kaldiio.load_scp(str(tmp_path / "dvector.scp"))
    np.testing.assert_allclose(again["m-0"], vec["m-0"], atol=1e-6)
    assert not np.any(again["f-0"]) and not np.any(again["f-1"])
    assert sorted(kaldiio.load_scp(str(tmp_path / "spk_dvector.scp"))) == ["m"]


def test_after_a_stage_2_rerun_only_the_vectors_of_changed_audio_are_recomputed(tmp_path, monkeypatch):
    from espnet_ext.bin import extract_spk_embed, format_audio

    rng = np.random.default_rng(0)
    data, dump = tmp_path / "data", tmp_path / "dump"
    (data / "src").mkdir(parents=True)
    utts = ["a-1", "a-2", "b-1", "b-2"]
    for i, utt in enumerate(utts):  # 1.0-1.3 s of noise, two "speakers" of different loudness
        wav = (0.05 if utt[0] == "a" else 0.3) * rng.standard_normal(int(22050 * (1 + 0.1 * i)))
        sf.write(data / "src" / f"{utt}.wav", wav.astype(np.float32), 22050)
    (data / "wav.scp").write_text("".join(f"{u} {data / 'src' / u}.wav\n" for u in utts))
    (data / "text").write_text("".join(f"{u} hello\n" for u in utts))
    (data / "utt2spk").write_text("".join(f"{u} {u[0]}\n" for u in utts))
    embedded = []

    def spy(job, real=extract_spk_embed._embed_one):
        embedded.append(job[0])
        return real(job)

    monkeypatch.setattr(extract_spk_embed, "_embed_one", spy)

    def stages_2_and_3(*stage_2_opts) -> dict:
        embedded.clear()
        assert format_audio.main(["--in", str(data), "--out", str(dump), "--nj", "1", *stage_2_opts]) == 0
        assert extract_spk_embed.main(["--data", str(dump)]) == 0
        return {k: v.copy() for k, v in kaldiio.load_scp(str(dump / "dvector.scp")).items()}

    first = stages_2_and_3()
    assert sorted(embedded) == utts
    again = stages_2_and_3()
    assert embedded == []  # the same audio rewritten by stage 2: every vector reused
    assert sorted(again) == utts and all(np.array_equal(again[u], first[u]) for u in utts)

    # a-2's recording replaced (here: with b-2's voice) and stage 2 rerun: only a-2 is recomputed
    sf.write(data / "src" / "a-2.wav", sf.read(data / "src" / "b-2.wav")[0].astype(np.float32), 22050)
    second = stages_2_and_3()
    assert embedded == ["a-2"]
    assert all(np.array_equal(second[u], first[u]) for u in ("a-1", "b-1", "b-2"))
    np.testing.assert_allclose(second["a-2"], second["b-2"], atol=1e-5)  # the new audio's vector
    assert not np.allclose(second["a-2"], first["a-2"], atol=1e-3)

    # stage 2 with other options: a-2 and b-2 (1.3 s) now too long to keep, the rest resampled to 8 kHz
    third = stages_2_and_3("--fs", "8000", "--max_sec", "1.25")
    assert sorted(embedded) == ["a-1", "b-1"] and sorted(third) == ["a-1", "b-1"]
    assert not np.allclose(third["a-1"], first["a-1"], atol=1e-4)
    assert sorted(kaldiio.load_scp(str(dump / "spk_dvector.scp"))) == ["a", "b"]
