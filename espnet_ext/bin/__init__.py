"""Entry points: python -m espnet_ext.bin.<name>."""
