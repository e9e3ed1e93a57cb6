"""espnet_ext: STTATTS and dMel as an ESPnet extension."""
from pathlib import Path

from setuptools import find_packages, setup


def pinned_requirements():
    """Runtime requirements from tools/requirements.txt, the one place they are pinned."""
    lines = (Path(__file__).parent / "tools" / "requirements.txt").read_text().splitlines()
    reqs = [ln.split("#")[0].strip() for ln in lines]
    test_only = {"transformers", "dmel", "pytest", "pytest-timeout", "wheel"}
    return [r for r in reqs if r and r.split("=")[0].split("<")[0].split(">")[0] not in test_only]


setup(
    name="espnet_ext",
    version="0.1.0",
    description="STTATTS (joint ASR/TTS/VC on SpeechT5) and dMel as an ESPnet extension",
    packages=find_packages(include=["espnet_ext", "espnet_ext.*"]),
    python_requires=">=3.11,<3.12",
    install_requires=pinned_requirements(),
    extras_require={"test": ["transformers==5.23.0", "dmel==1.0.1", "pytest"]},
    package_data={"espnet_ext.synth": ["wordlists/*/*.txt"], "espnet_ext.vocoder": ["conf/*.yaml"]},
)
