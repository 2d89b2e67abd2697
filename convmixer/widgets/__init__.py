"""ipywidgets panels for the notebooks: thin wiring of controls to tested functions.

Conventions (the browser test relies on them): every control has a ``description`` and a CSS class
``cm-<name>`` (``cm-kernel-size``, ``cm-depth``, ...); every panel has one ``HTML`` readout with the
class ``cm-readout`` whose text states the numbers the controls change.
"""
