"""STTATTS and dMel as an ESPnet extension."""
