"""Analysis (issue 12), Qt-free: equivariance error per layer against the angle
(:mod:`~gcnn_viewer.analysis.equivariance`), accuracy against the angle
(:mod:`~gcnn_viewer.analysis.accuracy`), the shared filters
(:mod:`~gcnn_viewer.analysis.filters`), their figures (:mod:`~gcnn_viewer.analysis.figures`)
and the ``analyse`` command (:mod:`~gcnn_viewer.analysis.cli`).

The names below load on first use (PEP 562): the command line imports
:mod:`gcnn_viewer.analysis.cli` to build its parser, and ``gcnn-viewer --help`` must not pay
for importing torch.
"""

from __future__ import annotations

from typing import Any

_EQUIVARIANCE = {
    "EXACT_TOLERANCE",
    "act",
    "as_model",
    "assert_equivariant",
    "disc_mask",
    "equivariance",
    "equivariance_curve",
    "equivariance_errors",
    "relative_error",
    "transform_maps",
}
_ACCURACY = {
    "AnalysisCancelled",
    "AnalysisError",
    "RotAccuracy",
    "UprightAccuracy",
    "rot_accuracy",
    "upright_accuracy",
}
_FILTERS = {"FilterBank", "LayerParameters", "filter_bank", "layer_parameters", "parameter_counts"}

__all__ = sorted(_EQUIVARIANCE | _ACCURACY | _FILTERS)


def __getattr__(name: str) -> Any:
    # explicit imports (not importlib): the import contract sees every dependency
    if name in _EQUIVARIANCE:
        import gcnn_viewer.analysis.equivariance as module
    elif name in _ACCURACY:
        import gcnn_viewer.analysis.accuracy as module
    elif name in _FILTERS:
        import gcnn_viewer.analysis.filters as module
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(module, name)
    globals()[name] = value  # once: later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
