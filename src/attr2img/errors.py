"""User-facing errors: the CLI prints their message and exits with status 2 (no traceback)."""


class DatasetError(ValueError):
    """A processed dataset is missing, malformed or fails its checksum."""


class ModelError(ValueError):
    """A model folder is missing, incomplete or does not match its card."""


class AttributeInputError(ValueError):
    """An attribute assignment or vector that does not fit the model."""


class ArtifactError(ValueError):
    """An input that another stage produces is missing or stale; the message names that stage."""


class FetchError(ValueError):
    """A real-data file that cannot be downloaded, verified or safely extracted."""


# What the CLI reports as one line (exit status 2) instead of a traceback.
USER_ERRORS = (DatasetError, ModelError, AttributeInputError, ArtifactError, FetchError)
