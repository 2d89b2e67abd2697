"""Lookahead: every few steps the weights move part of the way towards a slow running average of
themselves and then *become* that average (the scheme of hlb-cifar10 and airbench).

With ``w`` the weights after an optimizer step and ``a`` the average, an update at step ``t`` of
``T`` does

    a <- rho a + (1 - rho) w,    w <- a,    rho = beta^n (t / T)^3

every ``n`` steps once the first :data:`START_FRACTION` of training is done (the first update only
takes ``a = w``). ``beta^n`` is the decay of ``n`` steps of an exponential average with per-step
decay ``beta`` (:data:`STEP_DECAY`); the factor ``(t / T)^3`` keeps the average short early and
lengthens it towards the end, when averaging pays most. At every epoch's end the weights are set to
the average once more, so evaluations and checkpoints see it. BatchNorm's running statistics are
averaged with the weights.

airbench's ablations note that lookahead helped only together with a fast BatchNorm momentum
(running statistics that follow the weights quickly, ``TrainProfile.norm_momentum``), and vice
versa; the recipe ablation (``convmixer.studies.recipe``) measures the two together.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

START_FRACTION = 0.25  # of all steps: before it, no averaging (airbench: 3 of 12 epochs)
STEP_DECAY = 0.95  # beta: the average's decay per step, before the (t / T)^3 factor
DECAY_POWER = 3.0


class Lookahead:
    """The average of ``model``'s floating-point state (weights and BatchNorm statistics), updated
    every ``every`` steps of ``total_steps`` (module docstring). ``state_dict`` /
    ``load_state_dict`` carry it through checkpoints, so a resumed run continues exactly."""

    def __init__(self, model: nn.Module, every: int, total_steps: int) -> None:
        if every < 1 or total_steps < 1:
            raise ValueError(f"lookahead needs every >= 1 and total_steps >= 1, got {every} and {total_steps}")
        self.model, self.every, self.total_steps = model, every, total_steps
        self.average: dict[str, torch.Tensor] | None = None

    def _floating_state(self) -> dict[str, torch.Tensor]:
        return {name: t for name, t in self.model.state_dict().items() if t.is_floating_point()}

    @torch.no_grad()
    def after_step(self, step: int) -> None:
        """Called after optimizer step number ``step`` (counted from 1)."""
        if step < START_FRACTION * self.total_steps or step % self.every:
            return
        current = self._floating_state()
        if self.average is None:
            self.average = {name: t.detach().clone() for name, t in current.items()}
            return
        rho = STEP_DECAY ** self.every * (step / self.total_steps) ** DECAY_POWER
        for name, average in self.average.items():
            average.lerp_(current[name], 1 - rho)
            current[name].copy_(average)

    @torch.no_grad()
    def end_epoch(self) -> None:
        """Set the weights to the average (nothing before the first update)."""
        if self.average is not None:
            current = self._floating_state()
            for name, average in self.average.items():
                current[name].copy_(average)

    def state_dict(self) -> dict[str, Any]:
        return {"average": self.average}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        average = state["average"]
        if average is not None:
            expected = self._floating_state()
            if set(average) != set(expected):
                raise ValueError("the stored lookahead average does not fit this model")
            average = {name: t.to(expected[name].device) for name, t in average.items()}
        self.average = average
