"""Every failure LGS Reports can name, under one base class.

The command line maps these to exit codes; only failures a scheduler must tell
apart get their own code (see ``EXIT_CODES``).
"""

from __future__ import annotations


class LgsError(Exception):
    """Base class of every error LGS Reports raises on purpose."""

    exit_code = 1


class ConfigError(LgsError):
    """The environment or .env holds a missing or invalid setting."""

    exit_code = 2


class ParameterError(LgsError):
    """A report parameter is unknown or has the wrong type."""

    exit_code = 2


class MissingParameterError(LgsError):
    """A SQL query needs a bind parameter that was not given."""


class PeriodError(LgsError):
    """A period string is not one of the accepted forms."""

    exit_code = 2


class CampaignError(LgsError):
    """A campaign cannot be recorded as asked (unknown segment, no published report, a
    date out of range, another version already recorded); nothing was recorded."""

    exit_code = 2


class NoDataError(LgsError):
    """The warehouse holds no data for the requested period."""

    exit_code = 3


class WarehouseError(LgsError):
    """The warehouse cannot be reached or a statement failed."""

    exit_code = 4


class SourceError(LgsError):
    """The ETL source database cannot be reached or read; the warehouse is untouched."""

    exit_code = 4


class DataValidationError(LgsError):
    """A source file or table does not have the shape of retail data."""

    exit_code = 5


class MixedDataError(LgsError):
    """The warehouse holds demo lines and real lines together; a report would mix them."""

    exit_code = 5


class ReportExecutionError(LgsError):
    """A template failed while papermill executed it; nothing was published."""

    exit_code = 6


class DeliveryError(LgsError):
    """The report could not be delivered by email."""

    exit_code = 7


class ReportsDirError(LgsError):
    """The reports folder cannot be written (read-only, full, not a folder); nothing was
    published."""

    exit_code = 8


class LockedError(LgsError):
    """Another run holds the lock; this run did nothing."""

    exit_code = 75  # EX_TEMPFAIL: a scheduler may retry later


class MemoryLimitError(LgsError):
    """A run needs more memory than ``LGS_MEMORY_LIMIT`` allows, even spilling to disk;
    it loaded and published nothing."""

    exit_code = 9  # retrying will not help: raise the limit or cut the period


class BatchError(LgsError):
    """Some periods of a batch of reports failed; the others were built.

    Its exit code is the failures' own when they share one (75 when every failure was a
    busy warehouse), else 1.
    """

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def __reduce__(self) -> tuple:
        return (type(self), (str(self), self.exit_code))


EXIT_CODES = {
    cls.__name__: cls.exit_code
    for cls in (
        LgsError,
        ConfigError,
        ParameterError,
        PeriodError,
        CampaignError,
        NoDataError,
        WarehouseError,
        SourceError,
        DataValidationError,
        MixedDataError,
        ReportExecutionError,
        DeliveryError,
        ReportsDirError,
        LockedError,
        MemoryLimitError,
        BatchError,
    )
}
