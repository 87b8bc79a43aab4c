"""The Lab tab (issue 23), driven as a user drives it: View ▸ Lab, typing an input size,
the switches' lists, the Defaults button. Each change recomputes the curves on the analysis
thread; the readout says where equivariance at 90° first breaks."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore

from gcnn_viewer.analysis.equivariance import EXACT_TOLERANCE

from .conftest import choose, click, key, trigger, wait_frame

TIMEOUT_MS = 30_000


def open_lab(qtbot, window):
    lab = window.analysis.lab
    with qtbot.waitSignal(lab.computed, timeout=TIMEOUT_MS):
        trigger(window, "View", "Lab")
    assert window.analysis.lab_dock.isVisible()
    return lab


def type_size(qtbot, lab, size: int) -> None:
    lab.size.setFocus()
    qtbot.keyClick(lab.size, QtCore.Qt.Key.Key_A, QtCore.Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(lab.size, str(size))
    qtbot.keyClick(lab.size, QtCore.Qt.Key.Key_Return)


def test_input_size_29_breaks_p4cnn_at_the_pool_and_defaults_bring_it_back(window, qtbot):
    lab = open_lab(qtbot, window)
    assert lab.model.currentText().startswith("P4CNN")  # the right panel's model
    assert lab.readout.text() == "exact up to logits at 90°: every layer"
    assert len(lab.plots) == 1 and "(the defaults)" in lab.titles[0].text()

    with qtbot.waitSignal(lab.computed, timeout=TIMEOUT_MS) as done:
        type_size(qtbot, lab, 29)
    result = done.args[0]
    assert result.chosen.settings.input_size == 29
    text = lab.readout.text()
    assert text.startswith("exact up to l2 at 90°; first broken: pool (the 2×2 max-pool")
    assert "odd 25×25 map" in text  # 29 → l1 27 → l2 25
    # the chosen settings' curves beside the defaults': the pool breaks only in the first
    assert len(lab.plots) == 2
    assert "29×29" in lab.titles[0].text()
    assert "(the defaults)" in lab.titles[1].text()
    chosen, default = result.series[0].curves, result.series[1].curves
    assert chosen.at(90.0)["pool"] > EXACT_TOLERANCE >= default.at(90.0)["pool"]
    drawn = {item.name() for item in lab.plots[0].listDataItems()}
    assert {"l1", "l2", "pool", "logits"} <= drawn

    with qtbot.waitSignal(lab.computed, timeout=TIMEOUT_MS):
        click(qtbot, lab.reset)
    assert lab.size.value() == 28
    assert lab.readout.text() == "exact up to logits at 90°: every layer"
    assert len(lab.plots) == 1


def test_rotation_and_mask_switches_change_the_curves_not_the_quarter_turns(window, qtbot):
    lab = open_lab(qtbot, window)
    default = lab.result.chosen
    with qtbot.waitSignal(lab.computed, timeout=TIMEOUT_MS) as done:
        choose(qtbot, lab.rotation, "nearest")
    nearest = done.args[0].chosen
    assert nearest.settings.rotation == "nearest"
    assert nearest.at(45.0)["l1"] != default.at(45.0)["l1"]  # 45° is interpolated otherwise
    for layer, err in nearest.at(90.0).items():  # quarter turns: exact rot90, whatever method
        assert err <= EXACT_TOLERANCE, layer
    with qtbot.waitSignal(lab.computed, timeout=TIMEOUT_MS) as done:
        choose(qtbot, lab.mask, "disc")
    masked = done.args[0].chosen
    assert masked.settings.mask == "disc" and "mask disc" in lab.titles[0].text()
    # (a drawn digit keeps its corners empty: the mask changes nothing the layers see)
    assert lab.readout.text() == "exact up to logits at 90°: every layer"


def test_the_left_model_and_a_second_model_of_another_architecture(window, qtbot):
    lab = open_lab(qtbot, window)
    left = window.state.panel_keys[0]
    with qtbot.waitSignal(lab.computed, timeout=TIMEOUT_MS):
        choose(qtbot, lab.model, left)  # Z2CNN: planar, broken from the first layer
    assert lab.readout.text().startswith("not exact at 90° from the first layer on")
    assert "first broken: l1 (planar layer: not equivariant)" in lab.readout.text()
    right = window.state.panel_keys[1]
    with qtbot.waitSignal(lab.computed, timeout=TIMEOUT_MS):
        choose(qtbot, lab.model, right)
    with qtbot.waitSignal(lab.computed, timeout=TIMEOUT_MS) as done:
        choose(qtbot, lab.second, left)  # a Z2CNN beside a P4CNN: not comparable
    assert "only other weights of" in lab.status.text()
    assert len(done.args[0].series) == 1
    assert np.isfinite(done.args[0].chosen.errors["l1"]).all()


def test_other_weights_of_the_same_network_are_told_apart(window, qtbot, file_dialog, tmp_path):
    """The lab's own use: the same architecture with two sets of weights. An opened
    checkpoint of P4CNN and the shipped P4CNN were both called "P4CNN", in the lists and
    above both plots; each is named by its weights now."""
    import torch

    from gcnn_viewer.models import build_model
    from gcnn_viewer.training.checkpoint import save_checkpoint

    torch.manual_seed(3)
    model = build_model("p4cnn")
    path = save_checkpoint(
        tmp_path / "untrained-p4.pt",
        {"model_config": model.config, "state_dict": model.state_dict()},
    )
    file_dialog.append(str(path))
    key(qtbot, window, "Ctrl+Shift+O")  # File ▸ Open model… (into the right-hand panel)
    wait_frame(qtbot, window)
    lab = open_lab(qtbot, window)
    assert lab.model.currentText() == "P4CNN (untrained-p4.pt)"
    entries = [lab.second.itemText(i) for i in range(lab.second.count())]
    assert len(set(entries)) == len(entries), entries
    with qtbot.waitSignal(lab.computed, timeout=TIMEOUT_MS) as done:
        choose(qtbot, lab.second, "shipped:p4cnn")
    assert [s.title.split(":")[0] for s in done.args[0].series] == [
        "P4CNN (untrained-p4.pt)",
        "P4CNN",
    ]
    assert lab.titles[0].text() != lab.titles[1].text()
    assert lab.status.text().startswith("P4CNN: exact up to logits at 90°")
