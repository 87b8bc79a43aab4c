"""Analysis: equivariance errors, rotation sweeps (pure torch/numpy)."""

from gcnn_viewer.analysis.equivariance import (
    act,
    assert_equivariant,
    equivariance_errors,
    relative_error,
)

__all__ = ["act", "assert_equivariant", "equivariance_errors", "relative_error"]
