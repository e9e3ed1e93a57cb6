"""STTATTS and dMel as an ESPnet extension."""

__version__ = "0.1.0"
