"""Files named by URL (s3://, gs://, https://, file://, ...), opened through fsspec, which is
imported here only, when one is read. Both the CSV reader and the Parquet reader open them here."""

from __future__ import annotations

import contextlib

from .errors import UsageError


def is_remote(source: str) -> bool:
    """A URL (s3://, gs://, https://, file://, ...): read through fsspec."""
    return "://" in source


def open_remote(source: str, label: str, opened: contextlib.ExitStack):
    """A seekable binary handle on a URL, through fsspec and the package of its protocol (s3fs for
    s3://, gcsfs for gs://, aiohttp for https://), which must be installed: the error names it."""
    try:
        import fsspec
    except ImportError:
        raise UsageError(f"{label}: reading a URL needs fsspec: pip install fsspec (and its protocol's package, "
                         "e.g. s3fs)", kind="file") from None
    try:
        return opened.enter_context(fsspec.open(source, "rb"))
    except ImportError as error:  # the protocol's package: fsspec's message names it
        raise UsageError(f"{label}: {error}", kind="file") from None
    except FileNotFoundError:
        raise UsageError(f"{label}: no such file", kind="file") from None
    except (OSError, ValueError) as error:
        raise UsageError(f"{label}: cannot open: {str(error).splitlines()[0] if str(error) else type(error).__name__}",
                         kind="file") from None
