"""ipywidgets panels for the notebooks: thin wiring of controls to tested functions, every one
built on :mod:`convmixer.widgets.panel` (whose conventions the browser test relies on: a
``cm-<name>`` class on every control, one ``cm-readout``, ``cm-figure`` images).
"""
