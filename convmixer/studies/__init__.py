"""Experiments that answer the series' questions with several seeds and a held-out split: one
statistics rule (:mod:`~convmixer.studies.stats`), one record and file format
(:mod:`~convmixer.studies.records`), and one module per study -- kernel size x depth
(:mod:`~convmixer.studies.kernel_depth`), the skip connection (:mod:`~convmixer.studies.skip`),
the effective receptive field and kernel size on good models (:mod:`~convmixer.studies.erf`, two
plans), patch size (:mod:`~convmixer.studies.patch`), the cpu recipe's tricks
(:mod:`~convmixer.studies.recipe`) and the runs a reader trains from notebook 07's panel
(:mod:`~convmixer.studies.panel_runs`)."""
