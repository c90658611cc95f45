"""Figures: every figure stage writes one PNG, byte-reproducible on the same machine."""
