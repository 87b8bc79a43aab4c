"""The paper's networks (Z2CNN, P4CNN, P4CNN-RotationPooling) and P4MCNN, the model registry,
the training settings and the checkpoint record.

The names below load on first use (PEP 562), so that the torch-free parts —
:mod:`~gcnn_viewer.models.registry` and :mod:`~gcnn_viewer.models.train_config` — can be
imported without torch (the command line builds ``--help`` from them).
"""

from __future__ import annotations

from typing import Any

_NETWORKS = {"NETWORKS", "P4CNN", "P4MCNN", "Z2CNN", "GCNNModel", "P4CNNRotationPooling"}
_NETWORKS |= {"build_model"}
_PRETRAINED = {"load_pretrained", "pretrained_path", "shipped_dir"}
_RECORD = {"CheckpointRecord", "read_record", "load_model"}
_REGISTRY = {"ModelSpec", "model_names", "model_spec", "model_specs"}
_TRAIN_CONFIG = {"TrainConfig", "train_options"}

__all__ = sorted(_NETWORKS | _PRETRAINED | _RECORD | _REGISTRY | _TRAIN_CONFIG)


def __getattr__(name: str) -> Any:
    # explicit imports (not importlib): the import contract sees every dependency
    if name in _NETWORKS:
        import gcnn_viewer.models.networks as module
    elif name in _PRETRAINED:
        import gcnn_viewer.models.pretrained as module
    elif name in _RECORD:
        import gcnn_viewer.models.record as module
    elif name in _REGISTRY:
        import gcnn_viewer.models.registry as module
    elif name in _TRAIN_CONFIG:
        import gcnn_viewer.models.train_config as module
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(module, name)
    globals()[name] = value  # once: later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
