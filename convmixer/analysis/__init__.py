"""Numbers about a ConvMixer, trained or not: its size and cost (:mod:`~convmixer.analysis.cost`),
what each output can see and what it depends on (:mod:`~convmixer.analysis.fields`), and what a
trained one looks at (:mod:`~convmixer.analysis.inspection`)."""
