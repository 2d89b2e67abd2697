"""Outside numbers: each with a source, and consistent with what this project computes."""

import pytest

from convmixer.analysis.cost import convmixer_flops, convmixer_parameters, meta_forward_flops
from convmixer.model import get_config
from convmixer.notebook.published import (
    CIFAR10_SCRIPT,
    IMAGENET,
    MMPRETRAIN_TABLE,
    OFFICIAL_README,
    TRAINING_TIME_ISSUE,
)


@pytest.mark.parametrize("model", IMAGENET, ids=lambda m: m.config)
def test_published_parameter_counts_equal_our_closed_form(model):
    assert convmixer_parameters(get_config(model.config)) == model.parameters


@pytest.mark.parametrize("model", IMAGENET, ids=lambda m: m.config)
def test_our_configs_use_the_released_activation(model):
    assert get_config(model.config).activation == model.activation


@pytest.mark.parametrize("model", IMAGENET, ids=lambda m: m.config)
def test_published_flops_are_multiply_accumulates(model):
    """Ours count 2 FLOPs per multiply-accumulate: a little over twice mmpretrain's "Flops"."""
    ours = convmixer_flops(get_config(model.config), 224)
    assert ours == meta_forward_flops(get_config(model.config), 224)
    assert 2.0 < ours / model.macs < 2.2


def test_sources_name_repository_file_and_commit():
    assert OFFICIAL_README.cite() == "locuslab/convmixer README.md (commit 4704811)"
    assert MMPRETRAIN_TABLE.url == (
        "https://github.com/open-mmlab/mmpretrain/blob/09c4815457ceac1bf0e6e25ab20cd0d340ecf6fa/"
        "configs/convmixer/README.md"
    )
    assert TRAINING_TIME_ISSUE.url == "https://github.com/locuslab/convmixer/issues/12"
    assert TRAINING_TIME_ISSUE.cite() == "locuslab/convmixer issue #12"
    assert [m.top1_source for m in IMAGENET] == [OFFICIAL_README, MMPRETRAIN_TABLE, MMPRETRAIN_TABLE]


def test_the_92_5_percent_belongs_to_the_tuned_command_not_the_defaults():
    tuned, longer = CIFAR10_SCRIPT
    assert (tuned.accuracy, tuned.epochs, tuned.logged_test_accuracy) == ("around 92.5%", 25, 0.9260)
    for flag in ("--lr-max=0.05", "--ra-n=2", "--ra-m=12", "--wd=0.005", "--scale=1.0", "--jitter=0", "--reprob=0"):
        assert flag in tuned.command.split()
    assert "--clip-norm" not in tuned.command and "--clip-norm" not in longer.command
    assert longer.epochs == 100 and "--epochs=100" in longer.command.split()
