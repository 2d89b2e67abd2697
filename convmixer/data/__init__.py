"""Images in, tensors out: CIFAR-10 from its sources (:mod:`~convmixer.data.sources`), the bundled
sample (:mod:`~convmixer.data.sample`), augmentation (:mod:`~convmixer.data.augment`) and held-out
splits (:mod:`~convmixer.data.splits`)."""
