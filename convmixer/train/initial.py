"""Dirac initialisation of the depth-wise kernels: half of them start as the identity.

The fastest CIFAR-10 trainers (airbench) start half of every convolution's filters as a Dirac
delta, so that at step 0 those channels pass their input through unchanged and the network begins
close to a shallower one. In a ConvMixer block the depth-wise part is
``z' = BN(sigma(w * z)) + z``; a delta kernel ``w[c] = delta`` (1 at the centre tap, 0 elsewhere)
makes channel ``c`` start as ``BN(sigma(z[c])) + z[c]``: no spatial mixing yet, only the
non-linearity. The other half keeps PyTorch's random initialisation and mixes space from the first
step. "Centre" is the tap that reads the output's own pixel: index ``(k - 1) // 2`` along each
axis, also for even ``k`` (:func:`convmixer.layers.same_padding` puts the extra pixel after).
"""

from __future__ import annotations

import torch

from convmixer.layers import DepthwiseConv2d
from convmixer.model import ConvMixer


@torch.no_grad()
def dirac_depthwise(model: ConvMixer) -> int:
    """Set the first half of the channels of every depth-wise kernel in ``model`` to the identity
    (a delta at the centre tap, bias unchanged), in place; returns how many kernels were set."""
    changed = 0
    for module in model.modules():
        if isinstance(module, DepthwiseConv2d):
            half = module.out_channels // 2
            centre = (module.kernel_size[0] - 1) // 2
            module.weight[:half].zero_()
            module.weight[:half, 0, centre, centre] = 1.0
            changed += half
    return changed
