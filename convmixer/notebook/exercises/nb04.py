"""Notebook 04's exercises (registered with :func:`convmixer.notebook.exercises.exercise`)."""
