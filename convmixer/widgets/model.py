"""Model explorer: turn ``d``, ``k``, ``h`` and ``p`` and watch size, cost, reach and the feature
maps of a real image change."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from IPython.display import Image, display
from matplotlib.figure import Figure

from convmixer.analysis import (
    convmixer_flops,
    convmixer_parameters,
    count_parameters,
    receptive_field,
)
from convmixer.layers import check_positive_int
from convmixer.model import ConvMixer, ConvMixerConfig
from convmixer.viz.images import render_figure
from convmixer.viz.model import plot_feature_maps, receptive_box
from convmixer.viz.patches import check_chw
from convmixer.widgets.patches import standardize

WIDTHS: tuple[int, ...] = (16, 32, 64, 128, 256)
FIGURE_SIZE = (9.0, 2.6)  # inches; the Output keeps this height so redraws do not jump


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the enclosed PyTorch work on one intra-op thread, then restore the setting.

    The panel's forward passes are small (at most ~2 GFLOPs, mostly far less) and on a 2-core
    machine shared with other work, waking a second thread for every small operation cost 3-10x
    more time than it saved (measured: ConvMixer-64/12 on a 32x32 image, 0.35 s with two threads
    against 0.02 s with one, under load)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def image_coverage(config: ConvMixerConfig) -> str:
    """How much of the ``S x S`` image one position of the last feature map sees, in words:
    every position sees all of it, only the centre one (``(S/p) // 2`` on both axes) does, or
    the fraction of the side it spans."""
    k, p, d, size = config.kernel_size, config.patch_size, config.depth, config.image_size
    grid = size // p
    first_top, _, side = receptive_box(k, p, d, 0, 0)
    last_top, _, _ = receptive_box(k, p, d, grid - 1, grid - 1)
    centre_top, _, _ = receptive_box(k, p, d, grid // 2, grid // 2)
    if first_top + side >= size and last_top <= 0:
        return "every position sees the whole image"
    if centre_top <= 0 and centre_top + side >= size:
        return "the centre position sees the whole image, corner positions do not"
    if side >= size:
        return f"no position sees the whole image (each {side}×{side} window overhangs a border)"
    return f"each position sees a {side}×{side} px window, {side / size:.0%} of the image side"


def model_summary(config: ConvMixerConfig, parameters: int, flops: int) -> str:
    """The readout's HTML for ``config`` on its ``S x S`` image (``S = config.image_size``):
    parameters (counted, and the closed form), forward FLOPs, receptive field against ``S``."""
    h, d, k, p, size = (
        config.dim, config.depth, config.kernel_size, config.patch_size, config.image_size
    )
    rf = receptive_field(k, p, d)
    grid = size // p
    return (
        f"<b>ConvMixer-{h}/{d}</b>, k = {k}, p = {p} on a {size}×{size} image "
        f"(grid {grid}×{grid} = {grid * grid} tokens)<br>"
        f"parameters <b>{parameters:,}</b> (closed form {convmixer_parameters(config):,}) · "
        f"forward <b>{flops:,}</b> FLOPs ({flops / 1e6:,.1f} MFLOPs) per image<br>"
        f"receptive field after {d} block(s): <b>{rf}×{rf}</b> px vs image {size}×{size}: "
        f"{image_coverage(config)}"
    )


class ModelExplorer(widgets.VBox):
    """Sliders for depth ``d``, kernel size ``k``, width ``h`` and patch size ``p`` over one readout
    and one figure: a seeded, untrained ``ConvMixer-h/d`` run on ``image`` (BatchNorm using the
    image's statistics), its feature maps after the stem and after every block, and the
    receptive field of the centre position drawn on the image."""

    def __init__(
        self,
        image: torch.Tensor,
        depth: int = 4,
        kernel_size: int = 5,
        dim: int = 64,
        patch_size: int = 2,
        max_depth: int = 12,
        max_kernel_size: int = 9,
        widths: Sequence[int] = WIDTHS,
        channels: tuple[int, ...] = (0, 1, 2),
        seed: int = 0,
    ) -> None:
        height, width = check_chw(image)
        if height != width:
            raise ValueError(f"expected a square image, got {height}x{width}")
        for name, value, largest in (
            ("depth", depth, max_depth), ("kernel_size", kernel_size, max_kernel_size)
        ):
            if not 1 <= check_positive_int(name, value) <= largest:
                raise ValueError(f"{name} must be between 1 and {largest}, got {value}")
        widths = tuple(check_positive_int("width", w) for w in widths)
        if dim not in widths:
            raise ValueError(f"dim must be one of the widths {widths}, got {dim}")
        # p <= S/2: BatchNorm with batch statistics needs more than one grid position
        patch_sizes = tuple(p for p in range(1, min(8, height // 2) + 1) if height % p == 0)
        if patch_size not in patch_sizes:
            raise ValueError(
                f"patch_size must divide the {height}x{width} image (one of {patch_sizes}), "
                f"got {patch_size}"
            )
        if any(not 0 <= c < min(widths) for c in channels):
            raise ValueError(f"channels {channels} must lie in 0..{min(widths) - 1}")
        self.image, self.channels, self.seed = image, tuple(channels), seed
        self.input = standardize(image)
        self.model: ConvMixer | None = None
        self.maps: list[torch.Tensor] = []
        self.figure: Figure | None = None  # the last figure drawn (closed after rendering)
        self.png = b""  # ... and its PNG, as shown in the output

        def slider(cls, name, label, **kwargs):  # every control: description + cm-<name> class
            control = cls(description=label, continuous_update=False,
                          style={"description_width": "initial"}, **kwargs)
            return control.add_class(f"cm-{name}")

        self.depth = slider(widgets.IntSlider, "depth", "depth d", value=depth, min=1,
                            max=max_depth)
        self.kernel_size = slider(widgets.IntSlider, "kernel-size", "kernel size k",
                                  value=kernel_size, min=1, max=max_kernel_size)
        self.width = slider(widgets.SelectionSlider, "width", "width h", options=widths,
                            value=dim)
        self.patch_size = slider(widgets.SelectionSlider, "patch-size", "patch size p",
                                 options=patch_sizes, value=patch_size)
        self.readout = widgets.HTML().add_class("cm-readout")
        pixels = int(FIGURE_SIZE[1] * plt.rcParams["figure.dpi"]) + 10
        self.output = widgets.Output(layout=widgets.Layout(height=f"{pixels}px"))
        controls = [self.depth, self.kernel_size, self.width, self.patch_size]
        super().__init__([
            widgets.HBox(controls[:2]), widgets.HBox(controls[2:]), self.readout, self.output
        ])
        for control in controls:
            control.observe(self.update, names="value")
        self.update()

    @property
    def config(self) -> ConvMixerConfig:
        """The configuration the controls describe, at the image's size."""
        return ConvMixerConfig(
            dim=self.width.value, depth=self.depth.value, kernel_size=self.kernel_size.value,
            patch_size=self.patch_size.value, image_size=self.image.shape[1],
        )

    def update(self, change: object = None) -> None:
        """Rebuild the seeded model for the current controls, run the image through it, refresh
        the readout and redraw the figure."""
        config = self.config
        torch.manual_seed(self.seed)
        with one_thread():
            # Training mode: BatchNorm normalises with this image's own statistics. The stored
            # ones of an untrained model (mean 0, variance 1) would let the signal fade block by
            # block (std 0.4 -> 0.02 over 12 blocks), hiding the image behind padding artefacts.
            self.model = ConvMixer.from_config(config).train()
            self.maps = self.model.feature_maps(self.input)
        self.readout.value = model_summary(
            config, count_parameters(self.model), convmixer_flops(config)
        )
        centre = (config.image_size // config.patch_size) // 2
        box = receptive_box(config.kernel_size, config.patch_size, config.depth, centre, centre)
        self.figure = plot_feature_maps(self.image, self.maps, self.channels, box, FIGURE_SIZE)
        self.png = render_figure(self.figure, "png", dpi=plt.rcParams["figure.dpi"])
        plt.close(self.figure)
        with self.output:
            self.output.clear_output(wait=True)
            display(Image(data=self.png, format="png"))


def model_explorer(
    image: torch.Tensor,
    depth: int = 4,
    kernel_size: int = 5,
    dim: int = 64,
    patch_size: int = 2,
    seed: int = 0,
) -> ModelExplorer:
    """Build the model panel for a square ``(C, S, S)`` image: sliders ``d`` (1..12), ``k``
    (1..9, odd and even), ``h`` (16..256) and ``p`` (divisors of ``S`` up to ``min(8, S/2)``);
    the readout states parameters, FLOPs and receptive field; the figure shows the feature maps
    of the image after every block of a seeded, untrained model."""
    return ModelExplorer(image, depth, kernel_size, dim, patch_size, seed=seed)
