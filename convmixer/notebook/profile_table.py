"""The training profiles side by side, as a Markdown table built from the profile objects
themselves: every field of :class:`~convmixer.train.TrainProfile` (nested settings such as the
augmentation expanded field by field) is a row, so a field added to the recipe shows up without
touching the table."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Sequence

from convmixer.analysis.cost import count_parameters
from convmixer.model import ConvMixer
from convmixer.train import TrainProfile

# Shown through the model's own description instead of field by field.
_MODEL_FIELDS = ("name", "model", "model_overrides")


def _format(value: Any) -> str:
    if value is None:
        return "all"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _settings(profile: TrainProfile) -> dict[str, str]:
    """The profile's settings in display form: the model first, then every other field."""
    config = profile.model_config()
    parameters = count_parameters(ConvMixer(config))
    settings = {
        "model": f"ConvMixer-{config.dim}/{config.depth}, k = {config.kernel_size}, p = {config.patch_size}",
        "parameters": f"{parameters:,}",
    }
    for field in dataclasses.fields(profile):
        if field.name in _MODEL_FIELDS:
            continue
        value = getattr(profile, field.name)
        if dataclasses.is_dataclass(value):
            for inner in dataclasses.fields(value):
                settings[f"{field.name}: {inner.name}"] = _format(getattr(value, inner.name))
        else:
            settings[field.name] = _format(value)
    return settings


def profile_table(profiles: Mapping[str, TrainProfile], names: Sequence[str] | None = None) -> str:
    """A Markdown table with one column per profile and one row per setting; a value that differs
    from the first profile's (the reference recipe) is set in bold. ``names`` picks the profiles
    shown, in that order (e.g. ``("gpu", "cpu", "quick")``); default: all of them."""
    if names is not None:
        unknown = [name for name in names if name not in profiles]
        if unknown:
            raise ValueError(f"no profile called {', '.join(map(repr, unknown))}; known: {', '.join(profiles)}")
        profiles = {name: profiles[name] for name in names}
    if not profiles:
        raise ValueError("profile_table needs at least one profile")
    columns = {name: _settings(profile) for name, profile in profiles.items()}
    reference = next(iter(columns.values()))
    rows = list(dict.fromkeys(key for settings in columns.values() for key in settings))
    lines = [
        "| setting | " + " | ".join(f"`{name}`" for name in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for row in rows:
        cells = []
        for settings in columns.values():
            value = settings.get(row, "")
            cells.append(f"**{value}**" if value != reference.get(row, "") else value)
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
