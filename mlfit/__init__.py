"""mlfit: which distribution explains this column, with which parameters, and how sure are we.

The numeric stack (numpy, scipy, pandas) loads on first use of the API, so that the
command line starts instantly for `--help`.
"""

__version__ = "0.1.0"
__all__ = ["fit", "fit_file", "fit_columns", "compare", "describe", "regress", "score_model", "calibrate",
           "score_sequence", "FitResult",
           "FAMILY_NAMES", "MlfitError", "DataError", "UsageError"]

from .errors import DataError, MlfitError, UsageError
from .families import NAMES as FAMILY_NAMES


def __getattr__(name):
    if name in ("fit", "fit_file", "fit_columns", "compare", "describe", "regress", "score_model", "calibrate"):
        from . import api

        return getattr(api, name)
    if name == "score_sequence":
        from .sequences import score_sequence

        return score_sequence
    if name == "FitResult":
        from .result import FitResult

        return FitResult
    raise AttributeError(f"module 'mlfit' has no attribute {name!r}")
