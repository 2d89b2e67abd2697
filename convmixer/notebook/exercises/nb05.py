"""Notebook 05's exercises (registered with :func:`convmixer.notebook.exercises.exercise`)."""
