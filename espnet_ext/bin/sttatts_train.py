"""Train STTATTS with ESPnet's trainer: python -m espnet_ext.bin.sttatts_train --config ... (see STTATTSTask)."""
from espnet_ext.tasks.sttatts import STTATTSTask


def main(cmd=None):
    STTATTSTask.main(cmd=cmd)


if __name__ == "__main__":
    main()
