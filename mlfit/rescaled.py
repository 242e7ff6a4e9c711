"""A fit made on values divided by a power of two (data near float64's edges, see
pipeline.rescaling), its inference mapped back to the data's units: standard errors and interval
ends with their parameters (family.data_units), AIC and BIC with the NLL's shift n log c."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .inference import Interval, infer
from .weights import count


def rescaled_inference(result, level: float):
    """A rescaled fit's inference at another level, made as the fit was: on its values divided by
    its scale, then mapped back (FitResult.inference_at)."""
    family, c = result.family, result.scale
    shift = float(count(result.stats.n)) * math.log(c)
    inner_stats = family.summarize(result.values / c, result.weights)
    again = infer(family, inner_stats, family.rescaled(result.estimate, 1 / c), result.nll - shift, level,
                  family.rescaled(result.fixed, 1 / c))
    return mapped_inference(family, again, c, shift)


def mapped_inference(family, inference, c: float, shift: float):
    """Standard errors and interval ends of the fit of values / c, in the data's units."""
    def spread(name, se):
        unit = family.data_units.get(name)
        if se is None or unit in (None, "log data"):
            return se
        with np.errstate(over="ignore"):
            return se * c if unit == "data" else se / c

    def ends(name, pair):
        return tuple(None if end is None else float(family.rescaled({name: end}, c)[name]) for end in pair)

    intervals = {name: Interval(ends(name, interval.wald), ends(name, interval.profile))
                 for name, interval in inference.intervals.items()}
    stderr = {name: spread(name, se) for name, se in inference.stderr.items()}
    return replace(inference, aic=inference.aic + 2 * shift, bic=inference.bic + 2 * shift, stderr=stderr,
                   intervals=intervals)
