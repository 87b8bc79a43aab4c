"""Colour scales are cached per weights (issue 20, section 3): a second start reads them; a
cache file is untrusted input, validated, and rebuilt when it is not exactly right."""

import json

import pytest

from gcnn_viewer.models import build_model
from gcnn_viewer.viewer.models import (
    ModelCatalog,
    cached_probe,
    inputs_digest,
    level_inputs,
    probe_model,
    scales_path,
    weights_digest,
)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GCNN_VIEWER_DATA", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _seeded(name: str, seed: int):
    import torch

    torch.manual_seed(seed)
    return build_model(name).freeze()


def _path(model, inputs):
    return scales_path(weights_digest(model), inputs_digest(inputs))


def _same(a, b) -> bool:
    return a.layers == b.layers and all(a.scales[n] == b.scales[n] for n in a.layers)


@pytest.mark.parametrize("name", ["z2cnn", "p4cnn"])
def test_a_second_probe_reads_the_scales_it_wrote(cache, name):
    model, inputs = _seeded(name, 0), level_inputs()
    first, hit = cached_probe(model, inputs)
    assert not hit and _path(model, inputs).is_file()
    assert _same(first, probe_model(model, inputs))  # what it measures is probe_model's
    again, hit = cached_probe(model, inputs)
    assert hit and _same(again, first)
    assert again.layouts.keys() == first.layouts.keys()
    assert all(again.layouts[n].shape == first.layouts[n].shape for n in first.layers)
    assert [p.name for p in _path(model, inputs).parent.iterdir()] == [_path(model, inputs).name]


def test_other_weights_or_inputs_are_measured_again(cache):
    inputs = level_inputs()
    a, b = _seeded("z2cnn", 0), _seeded("z2cnn", 1)
    cached_probe(a, inputs)
    probe, hit = cached_probe(b, inputs)
    assert not hit and _same(probe, probe_model(b, inputs))
    assert weights_digest(a) != weights_digest(b)
    assert weights_digest(a) == weights_digest(_seeded("z2cnn", 0))  # the weights, not the object
    _, hit = cached_probe(a, inputs[:8])
    assert not hit


def _tamper(record: dict, how: str) -> object:
    layers = record["layers"]
    if how == "garbage":
        return "not a record"
    if how == "version":
        return {**record, "version": True}
    if how == "weights":
        return {**record, "weights_sha256": "0" * 64}
    if how == "missing layer":
        return {**record, "layers": layers[:-1]}
    if how == "renamed layer":
        return {**record, "layers": [{**layers[0], "name": "l9"}, *layers[1:]]}
    if how == "nan":
        return {**record, "layers": [{**layers[0], "hi": float("nan")}, *layers[1:]]}
    if how == "empty range":
        return {**record, "layers": [{**layers[0], "hi": 0.0}, *layers[1:]]}
    if how == "string bound":
        return {**record, "layers": [{**layers[0], "hi": "1.0"}, *layers[1:]]}
    if how == "asymmetric":
        top = next(i for i, item in enumerate(layers) if item["diverging"])
        changed = list(layers)
        changed[top] = {**layers[top], "lo": layers[top]["lo"] / 2}
        return {**record, "layers": changed}
    if how == "relu from below 0":
        return {**record, "layers": [{**layers[0], "lo": -1.0}, *layers[1:]]}
    raise AssertionError(how)


TAMPERED = [
    "garbage", "version", "weights", "missing layer", "renamed layer", "nan", "empty range",
    "string bound", "asymmetric", "relu from below 0",
]  # fmt: skip


@pytest.mark.parametrize("how", TAMPERED)
def test_a_tampered_cache_file_is_measured_again_and_rewritten(cache, how):
    model, inputs = _seeded("z2cnn", 0), level_inputs()
    measured, _ = cached_probe(model, inputs)
    path = _path(model, inputs)
    good = json.loads(path.read_text())
    path.write_text(json.dumps(_tamper(good, how)))  # (NaN written as JSON NaN)
    probe, hit = cached_probe(model, inputs)
    assert not hit and _same(probe, measured)
    assert json.loads(path.read_text()) == good  # rebuilt


@pytest.mark.parametrize("content", [b"", b"\xff\xfe{", b'{"version": 1', b"[]" * 10])
def test_an_unreadable_cache_file_is_measured_again(cache, content):
    model, inputs = _seeded("p4cnn", 0), level_inputs()
    path = _path(model, inputs)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    probe, hit = cached_probe(model, inputs)
    assert not hit and _same(probe, probe_model(model, inputs))
    assert json.loads(path.read_text())["weights_sha256"] == weights_digest(model)


def test_an_unwritable_cache_is_no_error(cache):
    cache.mkdir()
    (cache / "colour-scales").write_text("a file where the folder would be")
    model, inputs = _seeded("z2cnn", 0), level_inputs()
    probe, hit = cached_probe(model, inputs)
    assert not hit and _same(probe, probe_model(model, inputs))


def test_the_catalog_uses_the_cache(cache, tmp_path):
    catalog = ModelCatalog(tmp_path / "no-weights")
    (entry,) = catalog.prepare([catalog.find("z2cnn").key])
    path = _path(entry.model, level_inputs())
    assert path.is_file()
    again = ModelCatalog(tmp_path / "no-weights").prepare([catalog.find("z2cnn").key])[0]
    assert _same(again.probe(), entry.probe())
