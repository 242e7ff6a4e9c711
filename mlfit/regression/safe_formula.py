"""A formula is data, not a program: the Python inside a Wilkinson formula is checked against a
short list of transforms before formulaic evaluates it.

formulaic evaluates each term that is not a plain column name (`np.log(x)`, `I(x**2)`) with
Python's `eval`, builtins included, so `I(__import__('os').system(...))` would run a command.
Here every such term is parsed with `ast` and walked: it may hold column names, numbers and
strings, arithmetic and comparisons, and calls of the transforms listed below (numpy's by the
`np.` prefix); anything else (another function, an attribute, a subscript, a lambda, a name with a
double underscore) is refused with one line before any data is read.
"""

from __future__ import annotations

import ast
import re

from ..errors import UsageError

# What formulaic offers and a regression needs; each is a pure function of its arguments.
TRANSFORMS = frozenset({
    "I", "C", "Q", "offset", "log", "log2", "log10", "exp", "exp2", "exp10", "scale", "center", "standardize",
    "poly", "bs", "cr", "cs", "cc", "lag", "contr", "Treatment", "Sum", "Helmert", "Poly", "Diff",
})
NUMPY = frozenset({
    "log", "log1p", "log2", "log10", "exp", "expm1", "exp2", "sqrt", "cbrt", "square", "abs", "absolute", "sign",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh",
    "floor", "ceil", "round", "trunc", "rint", "power", "minimum", "maximum", "clip", "where", "reciprocal",
    "pi", "e",
})
CONTRASTS = frozenset({"treatment", "sum", "helmert", "poly", "diff", "custom"})
ALLOWED = ", ".join(sorted(TRANSFORMS - {"contr", "Treatment", "Sum", "Helmert", "Poly", "Diff"})) + \
    ", np." + ", np.".join(sorted(NUMPY - {"pi", "e"}))

_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.BitAnd, ast.BitOr,
              ast.BitXor, ast.USub, ast.UAdd, ast.Not, ast.Invert, ast.And, ast.Or, ast.Eq, ast.NotEq, ast.Lt,
              ast.LtE, ast.Gt, ast.GtE, ast.Load)
_SHAPES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Constant, ast.Name, ast.Call,
           ast.Attribute, ast.keyword, ast.List, ast.Tuple, ast.IfExp)
_BACKTICKED = re.compile(r"`[^`]*`")


def check_formula(text: str, what: str = "formula") -> None:
    """Refuse (exit 2) a formula whose Python terms do anything but compute with columns."""
    from formulaic import Formula
    from formulaic.errors import FormulaicError

    try:
        parsed = Formula(text)
    except (FormulaicError, SyntaxError, ValueError, TypeError) as error:
        message = " ".join(str(error).replace("\x1b[1;31m", "").replace("\x1b[0m", "").split())
        raise UsageError(f"{what} {text!r}: {message}") from None
    for factor in _factors(parsed):
        if str(getattr(factor.eval_method, "value", factor.eval_method)).lower() == "python":
            check_expression(factor.expr, text, what)


def _factors(formula):
    """Every factor of every term, on both sides of the '~' where there are two."""
    for side in (formula.lhs, formula.rhs) if hasattr(formula, "rhs") else (formula,):
        for term in side:
            yield from term.factors


def check_expression(expression: str, formula: str, what: str = "formula") -> None:
    """One Python term of a formula, such as `np.log(x + 1)`: refused unless it is made of the
    shapes and transforms allowed."""
    # A backticked column name is a name, whatever characters it holds.
    code = _BACKTICKED.sub("column_", expression)
    try:
        tree = ast.parse(code.strip(), mode="eval")
    except SyntaxError:
        raise UsageError(f"{what} {formula!r}: {expression!r} is not a term mlfit can read") from None
    for node in ast.walk(tree):
        problem = _problem(node)
        if problem:
            raise UsageError(f"{what} {formula!r}: {problem} is not allowed: a formula is data, and its terms may "
                             f"use columns, numbers, arithmetic and these transforms only: {ALLOWED}")


def _problem(node) -> str | None:
    if isinstance(node, _OPERATORS):
        return None
    if not isinstance(node, _SHAPES):
        return f"{type(node).__name__.lower()} {_source(node)!r}"
    if isinstance(node, ast.Name) and node.id.startswith("__"):
        return f"the name {node.id!r}"
    if isinstance(node, ast.keyword) and node.arg is not None and node.arg.startswith("_"):
        return f"the argument {node.arg!r}"
    if isinstance(node, ast.keyword) and node.arg is None:
        return "**arguments"
    if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str, bool, type(None))):
        return f"the constant {_source(node)!r}"
    if isinstance(node, ast.Attribute):
        if not (isinstance(node.value, ast.Name) and (
                (node.value.id in ("np", "numpy") and node.attr in NUMPY)
                or (node.value.id == "contr" and node.attr in CONTRASTS))):
            return f"{_source(node)!r}"
    if isinstance(node, ast.Call):
        callee = node.func
        if isinstance(callee, ast.Name) and callee.id in TRANSFORMS:
            return None
        if isinstance(callee, ast.Attribute) and _problem(callee) is None and callee.attr not in ("pi", "e"):
            return None
        return f"calling {_source(callee)!r}"
    return None


def _source(node) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # an odd node ast cannot write back: its kind is enough to name it
        return type(node).__name__
