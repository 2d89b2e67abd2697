"""Notebook 07's exercises (registered with :func:`convmixer.notebook.exercises.exercise`)."""
