"""Train the dMel LM with ESPnet's trainer: python -m espnet_ext.bin.dmel_train --config conf/dmel_mini.yaml ...

See ``espnet_ext.tasks.dmel_lm.DMelLMTask`` for the data names and config sections.
"""
from espnet_ext.tasks.dmel_lm import DMelLMTask


def main(cmd=None):
    DMelLMTask.main(cmd=cmd)


if __name__ == "__main__":
    main()
