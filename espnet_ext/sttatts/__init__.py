"""STTATTS (Toyin et al.): joint ASR / TTS / VC on one SpeechT5 encoder-decoder with task fusion.

Public API:
    TaskFusion, TASKS                      task vector + projection (task_fusion.py)
    ESPnetSTTATTSModel                     the multi-task ESPnet model (model.py)
    PhaseSchedule, Phase                   multi-stage training / warm fine-tuning (phases.py)
    SpeechT5LogMel                         speech-output targets with SpeechT5's mel settings
    STTATTSPreprocessor, STTATTSCollateFn  data side for ESPnet (data.py)
"""
from espnet_ext.sttatts.data import CharTextConverter, STTATTSCollateFn, STTATTSPreprocessor
from espnet_ext.sttatts.mel import SpeechT5LogMel
from espnet_ext.sttatts.model import ESPnetSTTATTSModel
from espnet_ext.sttatts.phases import Phase, PhaseSchedule
from espnet_ext.sttatts.task_fusion import TASKS, TaskFusion

__all__ = [
    "CharTextConverter",
    "ESPnetSTTATTSModel",
    "Phase",
    "PhaseSchedule",
    "STTATTSCollateFn",
    "STTATTSPreprocessor",
    "SpeechT5LogMel",
    "TASKS",
    "TaskFusion",
]
