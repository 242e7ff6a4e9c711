"""`python -m mlfit` and the `mlfit` console script.

Importing the command line takes tens of milliseconds; a Ctrl-C in that window must end mlfit
as one inside a command does (one line, exit 130), not with a traceback.
"""

import os
import sys

# mlfit's numeric work is small matrices (an optimiser's steps, p x p systems) and long vectors:
# a second BLAS thread only waits for the first (exec_blas_async_wait), 2-3 ms per call on a busy
# machine, and one fit makes dozens of calls. Read by numpy's and scipy's OpenBLAS (and MKL, or an
# OpenMP build) when they load, so set before either is imported; a user's own setting stands.
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_blas_thread(environment=os.environ) -> None:
    if not any(name in environment for name in BLAS_THREADS):
        for name in BLAS_THREADS:
            environment[name] = "1"


def main() -> None:
    one_blas_thread()
    try:
        from .cli import run
    except KeyboardInterrupt:
        sys.stderr.write("mlfit: error: interrupted\n")
        sys.exit(130)
    run()


if __name__ == "__main__":
    main()
