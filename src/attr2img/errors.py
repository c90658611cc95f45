"""User-facing errors: the CLI prints their message on one line, without a traceback, and
exits with the error's ``exit_code`` so that scripts can tell the kinds apart:

    0  success
    1  an unexpected error (a traceback: a bug, please report it)
    2  a usage error: an option, a parameter or a value you gave is not allowed (argparse's
       own errors use 2 as well)
    3  a data error: an input file or artifact is missing, corrupt, or not what it should be
"""

USAGE, DATA = 2, 3


class UsageError(ValueError):
    """An option or value given on the command line (or to the API) that is not allowed."""

    exit_code = USAGE


class AttributeInputError(UsageError):
    """An attribute assignment or vector that does not fit the model."""


class DatasetError(ValueError):
    """A processed dataset (or a file it is made from) is missing, malformed or fails its checksum."""

    exit_code = DATA


class ModelError(ValueError):
    """A model folder is missing, incomplete, corrupt or does not match its card."""

    exit_code = DATA


class ArtifactError(ValueError):
    """An input that another stage produces is missing or stale; the message names that stage."""

    exit_code = DATA


class FetchError(ValueError):
    """A real-data file that cannot be downloaded, verified or safely extracted."""

    exit_code = DATA


# What the CLI reports as one line instead of a traceback.
USER_ERRORS = (UsageError, DatasetError, ModelError, ArtifactError, FetchError)
