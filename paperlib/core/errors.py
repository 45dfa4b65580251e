"""The project's error types: each message says what to do; the command line prints it and exits 2."""


class PaperlibError(Exception):
    """Base class: a problem the user can fix from the message alone."""


class ConfigError(PaperlibError, ValueError):
    """A config value is out of range or unknown."""


class InputError(PaperlibError, ValueError):
    """An image or tensor handed to a model has the wrong shape, type or range, or the model lacks the part asked for."""


class DataError(PaperlibError, RuntimeError):
    """A data set cannot be loaded."""


class CheckpointError(PaperlibError, RuntimeError):
    """A checkpoint is missing, truncated, foreign or of another architecture."""


class WriteFailed(PaperlibError, OSError):
    """A result, checkpoint or cache file could not be written (full disk, read-only folder)."""


class TrainingDiverged(PaperlibError, RuntimeError):
    """A loss became NaN or infinite; no checkpoint is written from that state."""


class WeightsUnavailable(PaperlibError, RuntimeError):
    """Pretrained weights (the FID Inception network) are neither cached nor at the given path."""
