"""MCD-DTW on cases with known answers: the all-pass constant, frequency warping against a brute-force
evaluation, spectra a known number of dB apart, identical audio, other speakers, time-stretched audio."""
import math
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf
import soxr

from espnet_ext.evaluation.mcd import (
    MCD_CONSTANT,
    all_pass_constant,
    mcd_from_cepstra,
    mean_mcd,
    mel_band_cepstrum,
    mel_cepstral_distortion,
    sp2mc,
)

TEXT = "Please call Stella and ask her to bring these things with her from the store."
N_BINS = 513  # cheaptrick's envelope at 16 kHz (n_fft 1024)


@pytest.fixture(scope="module")
def speech(tmp_path_factory, espeak_ng):
    """speech(voice, rate=175, tempo=1.0) -> 16 kHz waveform of TEXT (about 4 s); tempo via sox (pitch kept)."""
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


def warped_frequency(alpha, n_bins=N_BINS):
    """The all-pass's phase: frequency w in [0, pi] (n_bins points) -> warped frequency w~."""
    w = np.linspace(0, np.pi, n_bins)
    return w + 2 * np.arctan(alpha * np.sin(w) / (1 - alpha * np.cos(w)))


def test_constant_is_the_classic_one():
    assert MCD_CONSTANT == pytest.approx(6.1418, abs=1e-4)  # 10 * sqrt(2) / ln(10)


@pytest.mark.parametrize("fs, alpha", [(8000, 0.312), (16000, 0.41), (22050, 0.455), (24000, 0.466),
                                       (44100, 0.544), (48000, 0.554)])
def test_all_pass_constant_is_pysptks_mcepalpha(fs, alpha):
    assert all_pass_constant(fs) == pytest.approx(alpha, abs=1e-9)


def test_sp2mc_recovers_a_cosine_series_on_the_warped_axis():
    """ln|H| = sum_m b_m cos(m w~), m <= 24, exactly: the order-24 mel cepstrum is b."""
    alpha = all_pass_constant(16000)
    b = np.random.default_rng(0).normal(size=25) / np.arange(1, 26)
    ln_h = np.cos(np.outer(warped_frequency(alpha), np.arange(25))) @ b
    c = sp2mc(np.exp(2 * ln_h)[None], 24, alpha)[0]
    np.testing.assert_allclose(c, b, atol=1e-10)


def test_warped_series_reproduces_any_envelope_up_to_truncation():
    """Brute force: a smooth random ln|H| against the mel cepstrum's cosine series evaluated at w~;
    the error is the truncation, so it shrinks as the order grows."""
    rng = np.random.default_rng(1)
    ln_h = np.convolve(np.cumsum(rng.normal(size=N_BINS + 100)) * 0.05, np.hanning(41) / np.hanning(41).sum(),
                       mode="valid")[:N_BINS]
    beta = warped_frequency(0.41)
    errors = []
    for order in (24, 60, 200):
        c = sp2mc(np.exp(2 * ln_h)[None], order, 0.41)[0]
        errors.append(np.abs(np.cos(np.outer(beta, np.arange(order + 1))) @ c - ln_h).max())
    assert errors[0] > errors[1] > errors[2] and errors[2] < 5e-3


@pytest.mark.parametrize("analysis", ["world", "mel"])
def test_a_ripple_costs_its_rms_in_db(analysis):
    """Two spectra 3 dB apart at the crests of a cosine ripple (order 5 on the analysis's axis):
    MCD = the ripple's RMS, 3 / sqrt(2) dB; nothing else differs."""
    ripple_db = 3.0
    if analysis == "world":
        ln_ratio = ripple_db * math.log(10) / 20 * np.cos(5 * warped_frequency(0.41))
        ref, gen = sp2mc(np.exp(2 * np.stack([np.zeros(N_BINS), ln_ratio])), 24, 0.41)
    else:
        k = np.arange(80)
        ref, gen = mel_band_cepstrum(np.zeros((2, 80)))[0], mel_band_cepstrum(
            (ripple_db / 20 * np.cos(np.pi * 5 * (k + 0.5) / 80))[None])[0]
        assert np.abs(np.delete(gen, 5)).max() < 1e-12  # a band-axis cosine is one coefficient
    r = mcd_from_cepstra(ref[None], gen[None], use_dtw=False)
    assert r.mcd == pytest.approx(ripple_db / math.sqrt(2))


def test_flat_mel_has_only_c0():
    c = mel_band_cepstrum(np.full((1, 80), -3.0), n_mcep=24)
    assert c[0, 0] == pytest.approx(-3.0 * math.log(10))
    assert np.abs(c[0, 1:]).max() < 1e-12


@pytest.mark.parametrize("analysis", ["world", "mel"])
def test_identical_audio_is_zero(speech, analysis):
    wav = speech("en-us+m3")
    assert mel_cepstral_distortion(wav, wav.copy(), 16000, analysis).mcd == 0.0


@pytest.mark.parametrize("analysis", ["world", "mel"])
def test_other_speaker_is_farther_than_same_voice(speech, analysis):
    """Same text: another voice (f4) vs the same voice speaking slower (DTW absorbs the rate)."""
    ref = speech("en-us+m3")
    other_speaker = mel_cepstral_distortion(ref, speech("en-us+f4"), 16000, analysis).mcd
    same_voice = mel_cepstral_distortion(ref, speech("en-us+m3", rate=140), 16000, analysis).mcd
    # Measured (world / mel): 13.2 / 10.8 dB vs 2.4 / 1.9 dB.
    assert other_speaker > 3.0 * same_voice
    assert other_speaker > 6.0


@pytest.mark.parametrize("analysis", ["world", "mel"])
def test_time_stretch_is_absorbed_by_dtw_only(speech, analysis):
    ref = speech("en-us+m3")
    stretched = speech("en-us+m3", tempo=1.25)
    assert len(stretched) < 0.85 * len(ref)
    with_dtw = mel_cepstral_distortion(ref, stretched, 16000, analysis)
    without = mel_cepstral_distortion(ref, stretched, 16000, analysis, use_dtw=False)
    # Measured (world / mel): 2.3 / 2.1 dB with DTW, 17.9 / 15.2 dB frame by frame.
    assert with_dtw.mcd < 4.0
    assert without.mcd > 3.0 * with_dtw.mcd
    assert with_dtw.path_length >= max(with_dtw.frames_ref, with_dtw.frames_gen)
    assert without.path_length == min(without.frames_ref, without.frames_gen)


def test_world_frames_are_5_ms(speech):
    wav = speech("en-us+m3")
    r = mel_cepstral_distortion(wav, wav, 16000, "world", use_dtw=False)
    assert r.frames_ref == len(wav) // 80 + 1  # 80 samples = 5 ms at 16 kHz


def test_griffin_lim_copy_synthesis_is_close_only_on_the_mel_it_inverts(speech):
    """Why "world" is the reported MCD: Griffin-Lim rebuilds the 80-band mel, not the envelope."""
    from espnet_ext.vocoder import load_vocoder
    from espnet_ext.vocoder.features import MelConfig, log_mel

    ref = speech("en-us+m3")
    copy = load_vocoder(None)(log_mel(ref, MelConfig()))
    on_mel = mel_cepstral_distortion(ref, copy, 16000, "mel").mcd
    on_world = mel_cepstral_distortion(ref, copy, 16000, "world").mcd
    # Measured: 1.6 dB on the mel, 6.8 dB on the WORLD envelope.
    assert on_world > 2.5 * on_mel


def test_mean_over_utterances_and_bad_arguments(speech):
    wav = speech("en-us+m3")
    assert mean_mcd({"a": wav, "b": wav}, {"a": wav}, 16000) == 0.0
    assert mean_mcd({"a": wav}, {}, 16000) is None
    with pytest.raises(ValueError):
        mel_cepstral_distortion(wav, wav, 16000, analysis="mfcc")
    with pytest.raises(ValueError):
        mel_band_cepstrum(np.zeros((3, 20)), n_mcep=24)
    assert mel_band_cepstrum(np.zeros((3, 80)), n_mcep=13).shape == (3, 14)
