"""ESPnet tasks (thin AbsTask subclasses), one module per task: ``sttatts.STTATTSTask``,
``dmel_lm`` (the dMel decoder-only model)."""
