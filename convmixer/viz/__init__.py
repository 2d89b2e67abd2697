"""Matplotlib figures for the notebooks. Each function takes tensors, returns a ``Figure``."""
