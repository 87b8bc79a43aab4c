"""LayerRecord (issue 22 §2): one typed description per layer, read instead of the tensor's
shape or the model's one group; the shipped models give theirs too."""

from __future__ import annotations

import pytest
import torch

from gcnn_viewer.group import P4, P4M
from gcnn_viewer.models import build_model
from gcnn_viewer.models.layers import LayerRecord, layer_record, layer_records
from tests.fixtures import _one_thread  # noqa: F401


def test_records_from_shapes() -> None:
    maps = {
        "a": torch.zeros(2, 3, 5, 5),
        "b": torch.zeros(2, 4, 8, 6, 6),
        "logits": torch.zeros(2, 10),
    }
    a, b, logits = layer_records(maps, {"b": P4M})
    assert (a.kind, a.channels, a.order, a.height, a.group) == ("planar", 3, 1, 5, None)
    assert (b.kind, b.order, b.group, b.shape) == ("group", 8, P4M, (4, 8, 6, 6))
    assert (logits.kind, logits.channels, logits.shape) == ("logits", 10, (10,))
    assert b.is_group and not a.is_group and not logits.is_map
    assert b.describe() == "p4m · 4 channels × 8 orientations · 6×6"
    assert a.describe() == "planar · 3 channels · 5×5"
    assert logits.describe() == "logits · 10 classes"


@pytest.mark.parametrize(
    ("shape", "group"), [((2, 3, 4, 5, 5), None), ((2, 3, 8, 5, 5), P4), ((2, 3, 5), None)]
)
def test_a_shape_without_its_group_is_refused(shape: tuple[int, ...], group: object) -> None:
    with pytest.raises(ValueError, match="x:"):
        layer_record("x", torch.zeros(shape), group)


def test_inconsistent_records_are_refused() -> None:
    with pytest.raises(ValueError):
        LayerRecord("x", "group", 3, 4, 5, 5)  # no group
    with pytest.raises(ValueError):
        LayerRecord("x", "planar", 3, 4, 5, 5)
    with pytest.raises(ValueError):
        LayerRecord("x", "sideways", 3, 1, 5, 5)
    with pytest.raises(ValueError):
        LayerRecord("x", "components", 2, 1, 5, 5, channel_labels=("a",))


def test_act_turn_and_untwist() -> None:
    planar = LayerRecord("p", "planar", 2, 1, 5, 5)
    group = LayerRecord("g", "group", 2, 4, 5, 5, P4)
    logits = LayerRecord("logits", "logits", 10, 1, 0, 0)
    x, f, v = torch.rand(1, 2, 5, 5), torch.rand(1, 2, 4, 5, 5), torch.rand(1, 10)
    assert torch.equal(planar.turn(1, x), torch.rot90(x, 1, dims=(-2, -1)))
    assert torch.equal(group.turn(1, f), P4.act_on_group_map(1, f))
    assert torch.equal(group.turn(5, f), group.turn(1, f))
    assert torch.equal(logits.turn(3, v), v)
    for record, t in ((planar, x), (group, f), (logits, v)):
        for turns in range(4):
            assert torch.equal(record.untwist(turns, record.turn(turns, t)), t)


@pytest.mark.parametrize("name", ["z2cnn", "p4cnn", "p4cnn_rotpool", "p4mcnn"])
def test_the_shipped_models_describe_their_layers(name: str) -> None:
    model = build_model(name).freeze()
    records = model.layer_records()
    maps = model.feature_maps(torch.rand(1, 1, 28, 28))
    assert [r.name for r in records] == list(maps)
    for record in records:
        assert (1, *record.shape) == tuple(maps[record.name].shape)
        if record.is_group:
            assert record.group is model.group
        else:
            assert record.group is None
    assert model.layer_records() is records  # computed once


def test_layer_records_leave_a_training_model_as_it_was() -> None:
    model = build_model("p4cnn")
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.layer_records()
    assert model.training and all(m.training for m in model.modules())
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # BN statistics untouched


def test_components_act_by_their_own_transform_with_the_groups_elements() -> None:
    from gcnn_viewer.group import cyclic

    c8 = cyclic(8)
    seen: list[int] = []

    def transform(element: int, t: torch.Tensor) -> torch.Tensor:
        seen.append(element)
        return t * element

    record = LayerRecord(
        "c", "components", 2, 1, 5, 5, c8, ("a", "b"), interpolated=True, transform=transform
    )
    t = torch.ones(1, 2, 5, 5)
    assert torch.equal(record.turn(1, t), t * 2)  # a quarter turn is C8's element 2
    record.untwist(1, t)
    assert seen == [2, 6]  # undone by its inverse
    assert record == LayerRecord("c", "components", 2, 1, 5, 5, c8, ("a", "b"), True)
