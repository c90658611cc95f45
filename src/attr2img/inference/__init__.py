"""Posterior inference by optimisation (paper section 4), occluders and the evaluation tables."""
