"""mlfit regress against R's fits of R's data sets, family by family: the table of
docs/regress.md ("Every family regresses"). Reads R's numbers from
tests/data/regress/families_reference.json (made by families_reference.R beside it); R is not
needed. Run from a clone: python benchmarks/regress_against_r.py"""

import json
from pathlib import Path

import numpy as np

import mlfit

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "regress"
FILES = {"airquality": "airquality.csv", "quine": "quine.csv", "insurance": "insurance.csv", "esoph": "esoph.csv",
         "lung": "lung.csv"}


def main() -> None:
    reference = json.loads((DATA / "families_reference.json").read_text())
    print("| family | data set | mlfit's log-likelihood − R's | largest relative coefficient difference | "
          "largest relative SE difference (against) |")
    print("|---|---|---|---|---|")
    for name, entry in reference.items():
        if name == "versions":
            continue
        source = DATA / ("lung_interval.csv" if name.startswith("lung_interval") else FILES[name.split("_")[0]])
        options = {k: entry[k] for k in ("trials", "censored", "exposure", "left", "right") if k in entry}
        data = mlfit.regress(str(source), entry["formula"], entry["dist"], **options).to_dict()
        mine, theirs = np.array(list(data["coef"].values())), np.array(list(entry["coef"].values()))
        against = "R's optimHess" if "se_observed" in entry else "what R prints"
        se_r = np.array(list(entry.get("se_observed", entry["se"]).values()))
        se = np.array(list(data["se"].values()))
        how = ", ".join(f"--{k} {v}" for k, v in options.items())
        print(f"| {entry['dist']} | {name.split('_')[0]}: `{entry['formula']}`{' ' + how if how else ''} | "
              f"{data['log_likelihood'] - entry['loglik']:+.1e} | {np.max(np.abs(mine - theirs) / np.abs(theirs)):.1e} | "
              f"{np.max(np.abs(se - se_r) / se_r):.1e} ({against}) |")


if __name__ == "__main__":
    main()
