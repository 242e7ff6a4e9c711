"""`python -m mlfit` and the `mlfit` console script.

Importing the command line takes tens of milliseconds; a Ctrl-C in that window must end mlfit
as one inside a command does (one line, exit 130), not with a traceback.
"""

import sys


def main() -> None:
    try:
        from .cli import run
    except KeyboardInterrupt:
        sys.stderr.write("mlfit: error: interrupted\n")
        sys.exit(130)
    run()


if __name__ == "__main__":
    main()
