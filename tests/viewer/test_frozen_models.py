"""Catalog models are frozen: no thread can change the model another thread runs (issue 18;
docs/ARCHITECTURE.md, "Threads and models")."""

import numpy as np
import pytest
import torch

from gcnn_viewer.analysis.accuracy import predict
from gcnn_viewer.analysis.equivariance import equivariance_curve
from gcnn_viewer.models import build_model
from gcnn_viewer.models.frozen import FrozenModelError
from gcnn_viewer.training import evaluate, recalibrate_batch_norm
from gcnn_viewer.viewer.models import ModelCatalog, level_inputs

from .conftest import save_model


def _x() -> torch.Tensor:
    return torch.from_numpy(level_inputs()[:4])[:, None]


def _entries(catalog: ModelCatalog, tmp_path):
    """One entry of every way a model reaches the catalog."""
    yield catalog.load(catalog.find("z2cnn").key)  # built in (untrained here)
    path = tmp_path / "opened.pt"
    save_model(path, "z2cnn")
    yield catalog.open_checkpoint(path)
    yield catalog.add_model(build_model("z2cnn"), "in training (run)")
    entry = catalog.add_model(build_model("z2cnn"), "in training (other)")
    yield catalog.update_model(entry.key, build_model("z2cnn"))


def test_every_catalog_model_is_frozen_in_eval_mode(tmp_path):
    for entry in _entries(ModelCatalog(tmp_path), tmp_path):
        model = entry.model
        assert model.frozen and not model.training, entry.key
        assert not any(m.training for m in model.modules())
        assert not any(p.requires_grad for p in model.parameters())
        assert model.eval() is model  # asking for eval mode is harmless


def test_a_frozen_model_refuses_every_change_of_mode_or_weights(tmp_path):
    catalog = ModelCatalog(tmp_path)
    model = catalog.load(catalog.find("z2cnn").key).model
    x = _x()
    with torch.inference_mode():
        before = model(x)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(FrozenModelError, match="frozen.*train"):
        model.train()
    wrapper = torch.nn.Sequential(model)  # a wrapper's train() reaches the model too
    with pytest.raises(FrozenModelError):
        wrapper.train()
    with pytest.raises(FrozenModelError):
        model.requires_grad_(True)
    with pytest.raises(FrozenModelError):
        model.load_state_dict(build_model("z2cnn").state_dict())
    with pytest.raises(FrozenModelError):
        model.set_normalisation(0.5, 2.0)
    model.drop.train()  # behind the model's back: it then refuses to run at all
    with pytest.raises(FrozenModelError, match="training mode"):
        model(x)
    model.drop.eval()
    with torch.inference_mode():
        assert torch.equal(model(x), before)
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())


def test_an_unfrozen_copy_trains_without_touching_the_original(tmp_path):
    catalog = ModelCatalog(tmp_path)
    model = catalog.load(catalog.find("z2cnn").key).model
    x = _x()
    with torch.inference_mode():
        before = model(x)
    copy = model.unfrozen_copy()
    assert not copy.frozen and all(p.requires_grad for p in copy.parameters())
    copy.train()
    optimizer = torch.optim.SGD(copy.parameters(), lr=0.5)
    copy(x).sum().backward()
    optimizer.step()
    recalibrate_batch_norm(copy, x, batch_size=2)
    with torch.inference_mode():
        assert torch.equal(model(x), before)
        assert not torch.equal(copy.eval()(x), before)


def test_analyses_leave_a_catalog_model_as_they_found_it(tmp_path):
    """The accuracy analysis switched the model it was given into training mode (its wrapper
    module, new and so in training mode, was "restored" to it): Z2CNN's dropout stayed on."""
    catalog = ModelCatalog(tmp_path)
    model = catalog.load(catalog.find("z2cnn").key).model
    x = _x()
    with torch.inference_mode():
        before = model(x)
    images = (level_inputs()[:6] * 255).astype(np.uint8)
    labels = np.arange(6) % 10
    predict(model, images, labels)
    evaluate(model, x, torch.zeros(len(x), dtype=torch.long))
    equivariance_curve(model, level_inputs()[0], [0.0, 90.0, 45.0])
    assert not model.training and not any(m.training for m in model.modules())
    with torch.inference_mode():
        assert torch.equal(model(x), before)


def test_predict_leaves_an_eval_model_in_eval_mode():
    """The same for any model, frozen or not (`gcnn-viewer analyse accuracy` passes its own)."""
    model = build_model("z2cnn").eval()
    images = (level_inputs()[:6] * 255).astype(np.uint8)
    predict(model, images, np.arange(6) % 10)
    assert not model.training and not model.drop.training
    model.train()
    predict(model, images, np.arange(6) % 10)
    assert model.training  # a model in training mode is given back in training mode
