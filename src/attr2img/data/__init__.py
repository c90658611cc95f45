"""Datasets: synthetic generators, the processed on-disk format and its torch loader."""
