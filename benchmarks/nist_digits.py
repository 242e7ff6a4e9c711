"""Correct digits (NIST's log relative error, LRE) of mlfit regress on the NIST StRD linear
regression problems shipped in tests/data/nist, for the table in benchmarks/RESULTS.md.

    python benchmarks/nist_digits.py
"""

import json
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlfit.regression import regress_file  # noqa: E402


def digits(computed, certified) -> float:
    computed, certified = np.asarray(computed, float), np.asarray(certified, float)
    error = np.where(certified != 0, np.abs(computed - certified) / np.abs(np.where(certified != 0, certified, 1)),
                     np.abs(computed - certified))
    return float(np.min(np.minimum(15.0, -np.log10(np.maximum(error, 1e-300)))))


def main() -> None:
    folder = ROOT / "tests" / "data" / "nist"
    certified = json.loads((folder / "certified.json").read_text())
    print("| problem | coefficients | standard errors | residual SD | numerical optimum's coefficients |")
    print("|---|---|---|---|---|")
    for name, entry in certified.items():
        if name.startswith("_"):
            continue
        result = regress_file(str(folder / f"{name}.csv"), entry["formula"], "normal")
        data = result.to_dict()
        numerical = "exact fit: none" if result.numerical is None else \
            f"{digits(list(data['numerical']['coef'].values()), entry['coef']):.1f}"
        print(f"| {name} | {digits(list(data['coef'].values()), entry['coef']):.1f} | "
              f"{digits(list(data['se_ols'].values()), entry['se']):.1f} | "
              f"{digits(data['sigma']['ols'], entry['residual_sd']):.1f} | {numerical} |")


if __name__ == "__main__":
    main()
