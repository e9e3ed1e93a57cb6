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
