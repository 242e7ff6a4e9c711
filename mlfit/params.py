"""Parameter values a user writes: `--fix sigma=1`, `--candidate "mu=0.5,sigma=2"`,
`--candidate "p=layup:0.3,three:0.7"` (a categorical maps each category to its probability).

Values are checked against the family's declared constraints, so a candidate with sigma <= 0,
p > 1 or probabilities that do not sum to 1 is refused with a message that says so.
"""

from __future__ import annotations

import re

import numpy as np

from .errors import UsageError


SYNTAX = ("write name=value pairs separated by commas, e.g. mu=0,sigma=1, or for a categorical "
          'p=a:0.2,b:0.8; double-quote a category label that holds a comma, colon, equals sign or quote '
          '(a quote inside doubled): p="a,b":0.2,c:0.8')
NAME = re.compile(r"\s*([A-Za-z_][A-Za-z_0-9]*)\s*=(.*)", re.DOTALL)


def parse_assignments(text: str) -> dict:
    """'mu=0,sigma=1' -> {'mu': '0', 'sigma': '1'}; 'p=a:0.2,b:0.8' -> {'p': {'a': '0.2', 'b': '0.8'}};
    a label in double quotes may hold anything: 'p="a,b":0.2,c:0.8' -> {'p': {'a,b': '0.2', 'c': '0.8'}}."""
    out: dict = {}
    current = None
    for piece in _pieces(text):
        if not piece.strip():
            continue
        named = None if piece.lstrip().startswith('"') else NAME.fullmatch(piece)
        if named:
            current = named.group(1)
            if current in out:
                raise UsageError(f"'{text}' gives {current} twice")
            out[current] = _entry(named.group(2), text)
        elif current is not None and isinstance(out[current], dict):
            entry = _entry(piece, text)
            if not isinstance(entry, dict):
                raise UsageError(f"cannot read '{piece.strip()}' in '{text}': a category is label:probability; {SYNTAX}")
            if set(entry) & set(out[current]):
                raise UsageError(f"'{text}' gives category '{next(iter(entry))}' twice")
            out[current].update(entry)
        else:
            raise UsageError(f"cannot read '{text}': {SYNTAX}")
    if not out:
        raise UsageError(f"cannot read '{text}': no name=value pair in it")
    return out


def _pieces(text: str) -> list[str]:
    """The text split at commas outside double quotes (quotes kept, for _entry to read)."""
    pieces, current, quoted = [], [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    if quoted:
        raise UsageError(f"cannot read '{text}': a double quote is not closed")
    pieces.append("".join(current))
    return pieces


def _entry(text: str, whole: str):
    """'0.5' -> '0.5'; 'a:0.5' -> {'a': '0.5'} (the last colon splits); '"a,b:c":0.5' -> {'a,b:c': '0.5'}."""
    text = text.strip()
    if text.startswith('"'):
        label, at = [], 1
        while at < len(text):
            if text[at] == '"':
                if text[at + 1: at + 2] == '"':  # a doubled quote is one quote of the label
                    label.append('"')
                    at += 2
                    continue
                break
            label.append(text[at])
            at += 1
        rest = text[at + 1:].strip()
        if not rest.startswith(":"):
            raise UsageError(f"cannot read '{text}' in '{whole}': a quoted label is followed by :probability")
        return {"".join(label): rest[1:].strip()}
    if ":" in text:
        label, _, value = text.rpartition(":")
        return {label.strip(): value.strip()}
    return text


def quote_label(label: str) -> str:
    """A category label as --fix and --candidate read it back."""
    if any(char in label for char in ',:="') or label != label.strip():
        return '"' + label.replace('"', '""') + '"'
    return label


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
                         + ",".join(f"{quote_label(label)}:0.5" for label in labels[:2]))
    known = set(labels)
    extra = [label for label in written if label not in known]
    if extra:
        listing = ", ".join(quote_label(label) for label in labels[:20]) + (", ..." if len(labels) > 20 else "")
        raise UsageError(f"{what}: '{extra[0]}' is not a category of the column; they are {listing}")
    absent = [label for label in labels if label not in written]
    if absent:
        raise UsageError(f"{what}: gives no probability for category '{absent[0]}'")
    return np.array([_float(written[label], f"{name}[{label}]", what) for label in labels])


def _float(text: str, name: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise UsageError(f"{what}: {name}={text} is not a number") from None
