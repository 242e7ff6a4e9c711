"""The command line: parse flags, call the library, choose a view, map errors to exit codes.

One module per command (fit, compare, score, regress, describe, models: score-model and calibrate,
sequence: score-sequence), registered on the app that `common` defines with the flags they share.
Nothing numeric is imported at module level, so `mlfit --help` starts as fast as typer does.
"""

from __future__ import annotations

import signal
import warnings

from ..errors import EXIT_INTERRUPTED
# Each module registers its command on the app; --help lists them in this order.
from . import fit, compare, score, regress, describe, models, sequence, report  # noqa: F401, I001
from .common import _fail, _stdout_in_full, app

__all__ = ["app", "run"]


def run() -> None:
    """Console-script entry point."""
    # A closed stdout (mlfit ... | head -1) ends mlfit quietly, as it ends cat or grep,
    # instead of a BrokenPipeError traceback.
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    # Arithmetic that meets float64's limits is handled where it happens (the suite fails on any
    # RuntimeWarning); one that slipped through must still not print a stray numpy line.
    warnings.simplefilter("ignore", RuntimeWarning)
    try:
        _stdout_in_full()
        app()
    except KeyboardInterrupt:  # Ctrl-C outside the command itself (while importing, say)
        _fail("interrupted", EXIT_INTERRUPTED)
