"""Model explorer: turn ``d``, ``k``, ``h`` and ``p`` and watch size, cost, reach, the feature
maps of a real image and the effective receptive field change -- those of a trained model
wherever the settings match it, those of a seeded untrained one everywhere."""

from __future__ import annotations

import dataclasses
import html
from typing import Callable, Sequence

import torch
from matplotlib.figure import Figure

from convmixer._util import check_positive_int, eval_mode, torch_threads
from convmixer.analysis.cost import convmixer_flops, convmixer_parameters, count_parameters
from convmixer.analysis.fields import (
    centre_position,
    effective_receptive_field,
    effective_side,
    own_patch_share,
    receptive_field,
)
from convmixer.data.augment import prepare_images
from convmixer.model import ConvMixer, ConvMixerConfig
from convmixer.viz.fields import erf_figure
from convmixer.viz.model import plot_feature_maps, receptive_box
from convmixer.viz.patches import check_chw
from convmixer.widgets.panel import Panel, draw_into, figure_image, int_slider, selection_slider
from convmixer.widgets.patches import standardize

WIDTHS: tuple[int, ...] = (16, 32, 64, 128, 256)
FIGURE_SIZE = (9.0, 2.6)  # inches
ERF_SIZE = 1.8  # inches per effective-receptive-field panel, below the feature maps
ERF_FLOP_BUDGET = 1.5e9  # the ERF averages over as many images as fit: forward FLOPs per redraw
Preprocess = Callable[[torch.Tensor], torch.Tensor]  # uint8 (B, C, H, W) -> float model input


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


def matches_trained(config: ConvMixerConfig, trained: ConvMixerConfig | None) -> bool:
    """Whether ``config`` is the ``trained`` model's or its first ``d`` blocks: every field equal,
    except a depth up to the trained model's."""
    return (
        trained is not None
        and config.depth <= trained.depth
        and dataclasses.replace(config, depth=trained.depth) == trained
    )


def weights_summary(config: ConvMixerConfig, trained: ConvMixerConfig | None, label: str, seed: int) -> str:
    """The readout's line saying whose weights the figures show: the trained model's (``label``
    names it) when ``config`` matches it, else a seeded random initialisation."""
    label = html.escape(label)
    if matches_trained(config, trained):
        part = "" if config.depth == trained.depth else f"the first {config.depth} of the {trained.depth} blocks of "
        return f"weights: <b>trained</b> &mdash; {part}{label}"
    line = f"weights: <b>untrained</b> (random, seed {seed})"
    if trained is not None:
        line += (
            f" &mdash; {label} is ConvMixer-{trained.dim}/{trained.depth} with k = {trained.kernel_size}, "
            f"p = {trained.patch_size}: set h, k and p to those (d &le; {trained.depth}) to see it trained"
        )
    return line


def erf_summary(
    erfs: dict[str, torch.Tensor | None], config: ConvMixerConfig, images: int
) -> str:
    """The readout's line on the effective receptive field of the centre position: for each
    model, the side of the centred square holding half of the gradient and the share on the
    position's own patch; then the theoretical receptive field."""
    position = centre_position(config.image_size, config.image_size, config.patch_size)
    parts = [
        f"{name}: half within <b>{effective_side(erf, config.patch_size, position)}</b> px square, "
        f"{own_patch_share(erf, config.patch_size, position):.0%} on its own patch"
        for name, erf in erfs.items()
        if erf is not None
    ]
    rf = receptive_field(config.kernel_size, config.patch_size, config.depth)
    return (
        f"effective receptive field of the centre position ({images} image{'s' * (images > 1)}): "
        + "; ".join(parts) + f" (theoretical {rf}&times;{rf} px)"
    )


class ModelExplorer(Panel):
    """Sliders for depth ``d``, kernel size ``k``, width ``h`` and patch size ``p`` over one readout
    and two figures for ``ConvMixer-h/d`` on ``image``, a square uint8 ``(C, S, S)`` image (the
    panel of notebook 04). By default ``d`` runs 1..12, ``k`` 1..9 (odd and even), ``h`` 16..256 and
    ``p`` over the divisors of ``S`` up to ``min(8, S/2)``.

    The first figure shows the feature maps after the stem and after every block, with the
    receptive field of the centre position drawn on the image: those of ``trained`` (in eval
    mode, on ``preprocess(image)``) when the settings match it or its first ``d`` blocks (see
    :func:`matches_trained`), else those of a seeded, untrained model (BatchNorm using the image's
    statistics, on the standardised image). The second shows the effective receptive field of the
    centre position (:func:`convmixer.analysis.fields.effective_receptive_field`, eval mode,
    averaged over ``erf_images``) of the untrained model, and of the trained one where it
    matches. The sliders' ranges always include the trained model's settings."""

    def __init__(
        self, image: torch.Tensor, depth: int = 4, kernel_size: int = 5, dim: int = 64, patch_size: int = 2,
        max_depth: int = 12, max_kernel_size: int = 9, widths: Sequence[int] = WIDTHS,
        channels: tuple[int, ...] = (0, 1, 2), seed: int = 0, trained: ConvMixer | None = None,
        trained_label: str = "the trained model", erf_images: torch.Tensor | None = None,
        preprocess: Preprocess = prepare_images,
    ) -> None:
        height, width = check_chw(image)
        if height != width:
            raise ValueError(f"expected a square image, got {height}x{width}")
        erf_images = image[None] if erf_images is None else erf_images
        if erf_images.dim() != 4 or erf_images.shape[1:] != image.shape or erf_images.dtype != torch.uint8:
            raise ValueError(
                f"erf_images must be uint8 images shaped (B, {', '.join(map(str, image.shape))}), got "
                f"{erf_images.dtype} {tuple(erf_images.shape)}"
            )
        trained_config = None
        if trained is not None:
            trained_config = dataclasses.replace(trained.config, image_size=height)
            if trained_config.in_channels != image.shape[0] or height % trained_config.patch_size:
                raise ValueError(
                    f"the trained model takes {trained_config.in_channels}-channel images divisible by "
                    f"p = {trained_config.patch_size}, got a {tuple(image.shape)} image"
                )
            max_depth = max(max_depth, trained_config.depth)
            max_kernel_size = max(max_kernel_size, trained_config.kernel_size)
            widths = tuple(sorted(set(widths) | {trained_config.dim}))
        self.depth = int_slider("depth", "depth d", depth, 1, max_depth)
        self.kernel_size = int_slider("kernel-size", "kernel size k", kernel_size, 1, max_kernel_size)
        widths = tuple(check_positive_int("width", w) for w in widths)
        if dim not in widths:
            raise ValueError(f"dim must be one of the widths {widths}, got {dim}")
        # p <= S/2: BatchNorm with batch statistics needs more than one grid position
        patch_sizes = tuple(p for p in range(1, min(8, height // 2) + 1) if height % p == 0)
        if trained_config is not None:
            patch_sizes = tuple(sorted(set(patch_sizes) | {trained_config.patch_size}))
        if patch_size not in patch_sizes:
            raise ValueError(
                f"patch_size must divide the {height}x{width} image (one of {patch_sizes}), "
                f"got {patch_size}"
            )
        if any(not 0 <= c < min(widths) for c in channels):
            raise ValueError(f"channels {channels} must lie in 0..{min(widths) - 1}")
        self.image, self.channels, self.seed = image, tuple(channels), seed
        self.input = standardize(image)
        self.trained, self.trained_config, self.trained_label = trained, trained_config, trained_label
        # the controls' settings replace these four fields; the others (classes, activation)
        # stay the trained model's, so that matching settings mean the same network
        self.base_config = trained_config or ConvMixerConfig(
            dim, depth, kernel_size, patch_size, in_channels=image.shape[0], image_size=height
        )
        self.trained_input = preprocess(image[None]) if trained is not None else None
        self.erf_inputs = preprocess(erf_images)
        self.model: ConvMixer | None = None
        self.maps: list[torch.Tensor] = []
        self.erfs: dict[str, torch.Tensor | None] = {}  # "untrained" (and "trained") -> ERF map
        self.erf_image_count = 0  # how many of erf_images the last ERF averaged over
        self._erf_cache: dict[tuple[str, ConvMixerConfig], tuple[torch.Tensor, int]] = {}
        self.width = selection_slider("width", "width h", widths, dim)
        self.patch_size = selection_slider("patch-size", "patch size p", patch_sizes, patch_size)
        # the feature maps are self.figure / self.drawn; the ERF figure goes below them
        self.erf_view = figure_image()
        self.erf_figure: Figure | None = None
        self.layout(
            [[self.depth, self.kernel_size], [self.width, self.patch_size]], extra=[self.erf_view]
        )
        self.redraw_on(self.depth, self.kernel_size, self.width, self.patch_size)
        self.update()

    @property
    def config(self) -> ConvMixerConfig:
        """The configuration the controls describe, at the image's size (other fields, such as
        the activation, from the trained model when there is one)."""
        return dataclasses.replace(
            self.base_config, dim=self.width.value, depth=self.depth.value,
            kernel_size=self.kernel_size.value, patch_size=self.patch_size.value,
        )

    @property
    def shows_trained(self) -> bool:
        """Whether the figures show the trained model (the settings match it)."""
        return matches_trained(self.config, self.trained_config)

    def effective_field(self, name: str, model: ConvMixer, config: ConvMixerConfig) -> tuple[torch.Tensor, int]:
        """The ERF of ``model``'s first ``config.depth`` blocks and the number of images it
        averages over (as many of ``erf_images`` as fit ``ERF_FLOP_BUDGET``); cached."""
        key = (name, config)
        if key not in self._erf_cache:
            count = int(max(1, min(len(self.erf_inputs), ERF_FLOP_BUDGET // convmixer_flops(config))))
            erf = effective_receptive_field(model, self.erf_inputs[:count], blocks=config.depth)
            self._erf_cache[key] = erf, count
        return self._erf_cache[key]

    def update(self, change: object = None) -> None:
        """Rebuild the seeded model for the current controls, run the image through it (or through
        the trained model when the settings match it), refresh the readout and redraw both
        figures."""
        config = self.config
        trained = self.shows_trained
        torch.manual_seed(self.seed)
        # One thread: the forward passes are small (mostly far below 2 GFLOPs), and on a 2-core
        # machine shared with other work, waking a second thread for every small operation cost
        # 3-10x more than it saved (measured: ConvMixer-64/12 on a 32x32 image, 0.35 s with two
        # threads against 0.02 s with one, under load).
        with torch_threads(1):
            self.model = ConvMixer(config)
            # the ERF first: eval mode, with the freshly initialised BatchNorm statistics
            untrained_erf, self.erf_image_count = self.effective_field("untrained", self.model, config)
            self.erfs = {"untrained": untrained_erf}
            if self.trained is not None:
                self.erfs["trained"] = None
            if trained:
                self.erfs["trained"], _ = self.effective_field("trained", self.trained, config)
                self.maps = first_blocks_feature_maps(self.trained, self.trained_input, config.depth)
            else:
                # Training mode: BatchNorm normalises with this image's own statistics. The stored
                # ones of an untrained model (mean 0, variance 1) would let the signal fade block by
                # block (std 0.4 -> 0.02 over 12 blocks), hiding the image behind padding artefacts.
                self.maps = self.model.train().feature_maps(self.input)
        self.readout.value = "<br>".join([
            model_summary(config, count_parameters(self.model), convmixer_flops(config)),
            weights_summary(config, self.trained_config, self.trained_label, self.seed),
            erf_summary(self.erfs, config, self.erf_image_count),
        ])
        centre = centre_position(config.image_size, config.image_size, config.patch_size)
        box = receptive_box(config.kernel_size, config.patch_size, config.depth, *centre)
        maps_figure = plot_feature_maps(self.image, self.maps, self.channels, box, FIGURE_SIZE)
        maps_figure.axes[1].set_title(
            f"{'trained' if trained else 'untrained'}: " + maps_figure.axes[1].get_title(), fontsize=9
        )
        self.show(maps_figure)
        own_patch = receptive_box(config.kernel_size, config.patch_size, 0, *centre)
        self.erf_figure = draw_into(self.erf_view, erf_figure(
            {f"ERF, {name}": erf for name, erf in self.erfs.items()}, own_patch,
            {f"ERF, {name}": box for name in self.erfs}, size=ERF_SIZE,
            missing="no trained model\nwith these settings",
        ), self.dpi)


def first_blocks_feature_maps(model: ConvMixer, x: torch.Tensor, depth: int) -> list[torch.Tensor]:
    """``[z_0, ..., z_depth]`` of ``model`` for the batch ``x``, in eval mode (its first ``depth``
    blocks only)."""
    with eval_mode(model):
        maps = [model.stem(x)]
        for block in model.blocks[:depth]:
            maps.append(block(maps[-1]))
    return maps
