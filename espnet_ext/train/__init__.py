"""Training support shared by the tasks: ESPnet's Trainer with bf16 autocast on CPU."""
from espnet_ext.train.trainer import CPU_AMP_DTYPE, AmpTrainer, cpu_amp

__all__ = ["AmpTrainer", "CPU_AMP_DTYPE", "cpu_amp"]
