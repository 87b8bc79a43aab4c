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

import sys
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
        import gcnn_viewer.analysis.equivariance  # noqa: F401  (sys.modules below)
    elif name in _ACCURACY:
        import gcnn_viewer.analysis.accuracy  # noqa: F401
    elif name in _FILTERS:
        import gcnn_viewer.analysis.filters  # noqa: F401
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # The submodule from sys.modules, not `import … as module`: that reads the package's
    # attribute, and "equivariance" names both a submodule and a function (issue 22). The
    # package attribute stays the submodule, which is callable as the function.
    submodule = (
        "equivariance" if name in _EQUIVARIANCE else "accuracy" if name in _ACCURACY else "filters"
    )
    module = sys.modules[f"{__name__}.{submodule}"]
    value = module if name == "equivariance" else getattr(module, name)
    globals()[name] = value  # once: later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
