"""Errors cen_mm raises instead of loading, saving or training on something unsafe.

``tools/train.py`` / ``tools/test.py`` print a :class:`SafetyError` as one ``error:``
message (no traceback) and exit with status 1.
"""


class SafetyError(RuntimeError):
    """A run stopped because continuing would load, save or train on bad data."""


class CheckpointError(SafetyError):
    """A checkpoint cannot be used; the message names the file and the fix."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """The checkpoint file (or the work dir's ``last_checkpoint``) does not exist."""


class UnsafeCheckpointError(CheckpointError):
    """The checkpoint's pickle references a global outside the allow-list."""


class CorruptCheckpointError(CheckpointError):
    """The file is truncated or not a torch checkpoint."""


class CheckpointMismatchError(CheckpointError):
    """The checkpoint's weights do not fit the model (missing / mis-shaped keys)."""


class MissingDataError(SafetyError, FileNotFoundError):
    """A dataset's data_root or folders do not exist."""


class ConfigMismatchError(SafetyError, ValueError):
    """Parts of the config contradict each other (e.g. num_classes vs the dataset)."""


class UnwritableOutputError(SafetyError):
    """An output folder (e.g. the work dir) cannot be created or written."""


class NonFiniteTrainingError(SafetyError):
    """The loss or the parameters became NaN/Inf."""
