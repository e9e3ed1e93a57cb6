"""MCD-DTW on cases with known answers: identical audio, other speakers, time-stretched audio."""
import math
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf
import soxr

from espnet_ext.evaluation.mcd import MCD_CONSTANT, mcd_from_cepstra, mel_cepstral_distortion, mel_cepstrum

TEXT = "Please call Stella and ask her to bring these things with her from the store."


@pytest.fixture(scope="module")
def speech(tmp_path_factory, espeak_ng):
    """speech(voice, rate=175, tempo=1.0) -> 16 kHz waveform of TEXT; tempo via sox (pitch kept)."""
    folder = tmp_path_factory.mktemp("mcd")
    sox = shutil.which("sox")
    assert sox, "sox is not installed: run 'bash tools/install_system.sh'"

    def make(voice, rate=175, tempo=1.0):
        path = folder / f"{voice}_{rate}_{tempo}.wav"
        subprocess.run([espeak_ng, "-v", voice, "-s", str(rate), "-w", str(path), TEXT], check=True)
        if tempo != 1.0:
            stretched = path.with_name("t_" + path.name)
            subprocess.run([sox, "-D", str(path), str(stretched), "tempo", str(tempo)], check=True)
            path = stretched
        wav, fs = sf.read(path, dtype="float32")
        return soxr.resample(wav, fs, 16000).astype(np.float32)

    return make


def test_constant_is_the_classic_one():
    assert MCD_CONSTANT == pytest.approx(6.1418, abs=1e-4)  # 10 * sqrt(2) / ln(10)


def test_cepstrum_of_known_spectra():
    """A flat log spectrum has only c_0; a cosine ripple of order m has only c_0 and c_m."""
    flat = np.full((1, 80), -3.0)
    c = mel_cepstrum(flat, n_mcep=24)
    assert c[0, 0] == pytest.approx(-3.0 * math.log(10))
    assert np.abs(c[0, 1:]).max() < 1e-12
    k = np.arange(80)
    ripple = (-3.0 + 0.5 * np.cos(np.pi * 5 * (k + 0.5) / 80))[None]
    c = mel_cepstrum(ripple, n_mcep=24)
    # ln|X| = c_0 + 2 c_5 cos(5 w): the ripple of amplitude 0.5 log10 units gives c_5 = 0.25 ln(10).
    assert c[0, 5] == pytest.approx(0.25 * math.log(10))
    assert np.abs(np.delete(c[0, 1:], 4)).max() < 1e-12
    # Two frames one ripple apart: MCD = constant * |delta c_5|.
    r = mcd_from_cepstra(mel_cepstrum(flat), mel_cepstrum(ripple), use_dtw=False)
    assert r.mcd == pytest.approx(MCD_CONSTANT * 0.25 * math.log(10))


def test_identical_audio_is_zero(speech):
    wav = speech("en-us+m3")
    assert mel_cepstral_distortion(wav, wav.copy()).mcd == 0.0


def test_other_speaker_is_farther_than_same_voice(speech):
    """Same text: another voice (f4) vs the same voice speaking slower (DTW absorbs the rate)."""
    ref = speech("en-us+m3")
    other_speaker = mel_cepstral_distortion(ref, speech("en-us+f4")).mcd
    same_voice = mel_cepstral_distortion(ref, speech("en-us+m3", rate=140)).mcd
    # Measured: about 5.4 dB vs 1.0 dB.
    assert other_speaker > 3.0 * same_voice
    assert other_speaker > 3.0


def test_time_stretch_is_absorbed_by_dtw_only(speech):
    ref = speech("en-us+m3")
    stretched = speech("en-us+m3", tempo=1.25)
    assert len(stretched) < 0.85 * len(ref)
    with_dtw = mel_cepstral_distortion(ref, stretched)
    without = mel_cepstral_distortion(ref, stretched, use_dtw=False)
    # Measured: about 1.0 dB with DTW, 7.6 dB frame by frame.
    assert with_dtw.mcd < 2.0
    assert without.mcd > 3.0 * with_dtw.mcd
    assert with_dtw.path_length >= max(with_dtw.frames_ref, with_dtw.frames_gen)
    assert without.path_length == min(without.frames_ref, without.frames_gen)


def test_fewer_coefficients_are_allowed_but_not_more_than_the_bands():
    with pytest.raises(ValueError):
        mel_cepstrum(np.zeros((3, 20)), n_mcep=24)
    assert mel_cepstrum(np.zeros((3, 80)), n_mcep=13).shape == (3, 14)
