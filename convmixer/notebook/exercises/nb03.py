"""Notebook 03's exercises (registered with :func:`convmixer.notebook.exercises.exercise`)."""
