"""The filter bank a layer applies is rot90 + cycle of the stored filter, exactly."""

from __future__ import annotations

import pytest
import torch

from gcnn_viewer.analysis.accuracy import AnalysisError
from gcnn_viewer.analysis.filters import filter_bank, layer_parameters, parameter_counts
from gcnn_viewer.group import P4M
from gcnn_viewer.models.pretrained import load_pretrained
from tests.analysis.conftest import seeded

LAYERS = ["l1", "l2", "l3", "l4", "l5", "l6", "top"]


@pytest.mark.parametrize("layer", LAYERS)
def test_p4_copies_are_rot90_and_cycle_of_the_stored_filter(layer):
    model = load_pretrained("p4cnn")
    for channel in (0, 3):
        bank = filter_bank(model, layer, channel)
        w = torch.from_numpy(bank.stored)  # [C_in, G_in, k, k]
        for r in range(4):
            if layer == "l1":  # from the plane: the filter turned
                expected = torch.rot90(w, r, dims=(-2, -1))
            else:  # from p4 maps: orientations cycled by r, then turned
                expected = torch.rot90(torch.roll(w, r, dims=1), r, dims=(-2, -1))
            assert torch.equal(torch.from_numpy(bank.expanded[r]), expected), (layer, r)
        assert bank.output_labels == ["0°", "90°", "180°", "270°"]


def test_the_bank_is_what_the_layer_convolves_with():
    model = seeded("p4cnn")
    conv = model.convs[2]
    bank, _ = conv.filter_bank()  # [out·4, in·4, 3, 3]
    fb = filter_bank(model, "l3", 7)
    assert torch.equal(bank[7 * 4 : 8 * 4].reshape(4, 10, 4, 3, 3), torch.from_numpy(fb.expanded))


def test_p4m_copies_are_the_group_action():
    model = seeded("p4mcnn")
    bank = filter_bank(model, "l4", 2)
    w = torch.from_numpy(bank.stored)
    for g in P4M.elements:
        assert torch.equal(torch.from_numpy(bank.expanded[g]), P4M.act_on_group_map(g, w))
    assert bank.output_labels[4] == "m0°"


def test_plain_cnn_bank_is_the_filter():
    model = seeded("z2cnn")
    bank = filter_bank(model, "l2", 5)
    assert bank.expanded.shape == (1, 20, 1, 3, 3)
    assert torch.equal(torch.from_numpy(bank.stored[:, 0]), model.convs[1].weight[5].detach())


def test_parameter_counts():
    p4 = layer_parameters(seeded("p4cnn"), "l2")
    assert (p4.params, p4.plain_params, p4.maps_in, p4.maps_out) == (3610, 14440, 40, 40)
    assert p4.ratio == pytest.approx(4.0, rel=0.01)
    l1 = layer_parameters(seeded("p4cnn"), "l1")
    assert (l1.params, l1.plain_params) == (10 * 9 + 10, 40 * 9 + 40)
    z2 = parameter_counts(seeded("z2cnn"))
    assert all(p.params == p.plain_params for p in z2)
    model = seeded("p4cnn")
    convs = sum(p.numel() for m in [*model.convs, model.top] for p in m.parameters())
    assert sum(p.params for p in parameter_counts(model)) == convs


def test_bad_layer_or_channel_is_one_line():
    model = seeded("p4cnn")
    with pytest.raises(AnalysisError, match="no convolution layer 'pool'"):
        filter_bank(model, "pool", 0)
    with pytest.raises(AnalysisError, match="channels 0..9, not 10"):
        filter_bank(model, "l2", 10)
