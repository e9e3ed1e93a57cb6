# Corpus roots: each is the folder that CONTAINS the corpus's top folder (as in ESPnet).
# Any of them can be overridden from the environment: LIBRISPEECH=/data ./run.sh
LIBRISPEECH=${LIBRISPEECH:-downloads}   # .../LibriSpeech/{train-clean-100,dev-clean,...}
LIBRITTS=${LIBRITTS:-downloads}         # .../LibriTTS/{train-clean-100,...}
LJSPEECH=${LJSPEECH:-downloads}         # .../LJSpeech-1.1/{wavs,metadata.csv}
CMU_ARCTIC=${CMU_ARCTIC:-downloads}     # .../cmu_us_<spk>_arctic/{wav,etc}
ASC=${ASC:-downloads}                   # .../arabic-speech-corpus/{wav,lab,test set}
