"""Comparing nested JSON results: numbers to a relative tolerance, everything else exactly."""

import pytest


def flat(value, prefix=""):
    """Nested JSON as {path: leaf}."""
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in flat(item, f"{prefix}{key}.").items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in flat(item, f"{prefix}{i}.").items()}
    return {prefix: value}


def close(got, want, where="", rel=1e-12):
    """Equal leaves: floats to `rel` (and 1e-12 absolute); text, null, booleans and ints exactly."""
    got, want = flat(got), flat(want)
    assert got.keys() == want.keys(), where
    for key, expected in want.items():
        if isinstance(expected, float):
            assert got[key] == pytest.approx(expected, rel=rel, abs=1e-12), (where, key)
        else:
            assert got[key] == expected, (where, key)
