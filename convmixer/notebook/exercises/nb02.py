"""Notebook 02's exercises (registered with :func:`convmixer.notebook.exercises.exercise`)."""
