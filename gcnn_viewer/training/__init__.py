"""Training: the loop as a generator of progress records, checkpoints, the reproduction."""

from gcnn_viewer.training.checkpoint import (
    Checkpoint,
    CheckpointError,
    check_writable,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
    validate_checkpoint_dict,
)
from gcnn_viewer.training.loop import (
    PAPER_EPOCHS,
    Datasets,
    Progress,
    TrainConfig,
    Trainer,
    TrainingError,
    available_devices,
    evaluate,
    iter_evaluate,
    recalibrate_batch_norm,
    resolve_device,
    rotate_batch,
    to_tensor,
)

__all__ = [
    "PAPER_EPOCHS",
    "Checkpoint",
    "CheckpointError",
    "Datasets",
    "Progress",
    "TrainConfig",
    "Trainer",
    "TrainingError",
    "available_devices",
    "check_writable",
    "evaluate",
    "iter_evaluate",
    "load_checkpoint",
    "read_checkpoint",
    "recalibrate_batch_norm",
    "resolve_device",
    "rotate_batch",
    "save_checkpoint",
    "to_tensor",
    "validate_checkpoint_dict",
]
