"""Notebook 06's exercises (registered with :func:`convmixer.notebook.exercises.exercise`)."""
