"""Notebook 01's exercises (registered with :func:`convmixer.notebook.exercises.exercise`)."""
