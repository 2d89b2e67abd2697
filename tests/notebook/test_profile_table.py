"""The recipe table of notebook 05 is built from the profile objects: every field appears, and
values that differ from the reference profile stand out."""

import dataclasses

import pytest
from support import TINY

from convmixer.notebook.profile_table import profile_table
from convmixer.train import PROFILES, TrainProfile


def _rows(table: str) -> dict[str, list[str]]:
    lines = table.splitlines()
    return {cells[0]: cells[1:] for cells in ([c.strip() for c in line.strip("|").split("|")] for line in lines[2:])}


def test_every_profile_is_a_column_and_every_field_a_row():
    table = profile_table(PROFILES)
    header = [c.strip() for c in table.splitlines()[0].strip("|").split("|")]
    assert header == ["setting", *(f"`{name}`" for name in PROFILES)]
    rows = _rows(table)
    shown = {name.split(":")[0] for name in rows}
    for field in dataclasses.fields(TrainProfile):
        if field.name not in ("name", "model", "model_overrides"):
            assert field.name in shown, field.name
    for field in dataclasses.fields(next(iter(PROFILES.values())).augment):
        assert f"augment: {field.name}" in rows


def test_values_come_from_the_profiles_and_differences_are_bold():
    reference = TINY
    changed = TINY.replace(name="changed", epochs=TINY.epochs + 3, model_overrides={**TINY.model_overrides, "depth": 5})
    rows = _rows(profile_table({"tiny": reference, "changed": changed}))
    config = changed.model_config()
    assert rows["epochs"] == [str(TINY.epochs), f"**{TINY.epochs + 3}**"]
    assert rows["batch_size"] == [str(TINY.batch_size)] * 2
    assert rows["model"][1] == f"**ConvMixer-{config.dim}/5, k = {config.kernel_size}, p = {config.patch_size}**"
    assert rows["train_subset"] == ["all", "all"]
    assert rows["augment: flip"] == ["yes", "yes"]


def test_no_profiles_is_an_error():
    with pytest.raises(ValueError, match="at least one profile"):
        profile_table({})


def test_names_pick_the_columns_in_order():
    table = profile_table(PROFILES, names=("gpu", "cpu", "quick"))
    header = [c.strip() for c in table.splitlines()[0].strip("|").split("|")]
    assert header == ["setting", "`gpu`", "`cpu`", "`quick`"]
    assert _rows(table)["epochs"][0] == str(PROFILES["gpu"].epochs)
    with pytest.raises(ValueError, match="no profile called 'nope'"):
        profile_table(PROFILES, names=("gpu", "nope"))
