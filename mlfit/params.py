"""Parameter values a user writes: `--fix sigma=1`, `--candidate "mu=0.5,sigma=2"`,
`--candidate "p=layup:0.3,three:0.7"` (a categorical maps each category to its probability).

Values are checked against the family's declared constraints, so a candidate with sigma <= 0,
p > 1 or probabilities that do not sum to 1 is refused with a message that says so.
"""

from __future__ import annotations

import numpy as np

from .errors import UsageError


def parse_assignments(text: str) -> dict:
    """'mu=0,sigma=1' -> {'mu': '0', 'sigma': '1'}; 'p=a:0.2,b:0.8' -> {'p': {'a': '0.2', 'b': '0.8'}}."""
    out: dict = {}
    current = None
    for piece in (part.strip() for part in text.split(",")):
        if not piece:
            continue
        name, eq, value = piece.partition("=")
        if eq and ":" not in name:
            current = name.strip()
            if current in out:
                raise UsageError(f"'{text}' gives {current} twice")
            out[current] = _entry(value.strip())
        elif current is not None and isinstance(out[current], dict):
            out[current].update(_entry(piece))
        else:
            raise UsageError(f"cannot read '{text}': write name=value pairs separated by commas, "
                             "e.g. mu=0,sigma=1 or p=a:0.2,b:0.8")
    if not out:
        raise UsageError(f"cannot read '{text}': no name=value pair in it")
    return out


def _entry(text: str):
    if ":" in text:
        label, _, value = text.rpartition(":")
        return {label.strip(): value.strip()}
    return text


def resolve(family, stats, written: dict, *, complete: bool, what: str) -> dict:
    """Written values as natural parameters (a categorical p as an array in category order).
    `complete` demands every parameter (a candidate); otherwise a subset is fine (--fix)."""
    names = [p.name for p in family.parameters]
    unknown = [name for name in written if name not in names]
    if unknown:
        raise UsageError(f"{what}: {family.name} has no parameter '{unknown[0]}'; its parameters are "
                         f"{', '.join(names)}")
    missing = [name for name in names if name not in written]
    if complete and missing:
        raise UsageError(f"{what}: gives no value for {', '.join(missing)}")
    params = {}
    for p in family.parameters:
        if p.name not in written:
            continue
        value = _number_or_vector(family, stats, p.name, written[p.name], what)
        if not p.constraint.contains(value):
            shown = written[p.name] if not isinstance(written[p.name], dict) else "those values"
            raise UsageError(f"{what}: {p.name} must be {p.constraint.description}, not {shown}"
                             + (f" (they sum to {np.sum(value):.10g})" if np.ndim(value) else ""))
        params[p.name] = value
    return params


def _number_or_vector(family, stats, name, written, what):
    labels = family.labels(stats)
    if labels is None:
        if isinstance(written, dict):
            raise UsageError(f"{what}: {name} is a number, not a mapping")
        return _float(written, name, what)
    if not isinstance(written, dict):
        raise UsageError(f"{what}: {name} maps each category to its probability, e.g. {name}="
                         + ",".join(f"{label}:0.5" for label in labels[:2]))
    extra = [label for label in written if label not in labels]
    if extra:
        raise UsageError(f"{what}: '{extra[0]}' is not a category of the column; they are {', '.join(labels)}")
    absent = [label for label in labels if label not in written]
    if absent:
        raise UsageError(f"{what}: gives no probability for category '{absent[0]}'")
    return np.array([_float(written[label], f"{name}[{label}]", what) for label in labels])


def _float(text: str, name: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise UsageError(f"{what}: {name}={text} is not a number") from None
