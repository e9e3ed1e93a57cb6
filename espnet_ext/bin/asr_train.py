"""ESPnet's ASR training (espnet2.bin.asr_train) with --use_amp true on CPU meaning bf16 autocast.

The recipes' judge ASR trains with it: python -m espnet_ext.bin.asr_train --config conf/judge_asr_mini.yaml ...
Same options, task and saved model as ESPnet's; only the trainer is ``espnet_ext.train.AmpTrainer``.
"""
from espnet2.tasks.asr import ASRTask

from espnet_ext.train import AmpTrainer


class AmpASRTask(ASRTask):
    trainer = AmpTrainer


def main(cmd=None):
    AmpASRTask.main(cmd=cmd)


if __name__ == "__main__":
    main()
