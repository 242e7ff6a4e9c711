"""scikit-learn's GaussianMixture on Old Faithful, the numbers tests/test_mixture.py checks mlfit's
normal mixtures against (beside mclust's). scikit-learn is not one of mlfit's dependencies: run
this in a venv of its own (python -m venv v && v/bin/pip install scikit-learn pandas) from this
folder: v/bin/python sklearn_reference.py. Writes sklearn_reference.json.

For each column and K = 1..4: the best of 40 initialisations (20 k-means starts, 20 random ones), run
to a tight tolerance with a negligible covariance regularisation (1e-10), leaving out fits with a
component collapsed onto repeated values (a standard deviation below 1e-3 of the column's: waiting
is in whole minutes, where such a spike's likelihood grows without end). The values are passed as
float64: scikit-learn 1.9.1 scores an integer column 59 nats off on waiting (-1036.29 for one
component, where the normal log-likelihood is -1095.29)."""

import json

import numpy as np
import pandas as pd
import sklearn
from sklearn.mixture import GaussianMixture

faithful = pd.read_csv("faithful.csv")
out = {"versions": {"scikit-learn": sklearn.__version__}}
for column in ("eruptions", "waiting"):
    x = faithful[column].to_numpy(dtype=float).reshape(-1, 1)
    out[column] = {}
    for k in (1, 2, 3, 4):
        best = None
        for init in ("kmeans", "random"):
            for seed in range(20):
                model = GaussianMixture(k, covariance_type="full", tol=1e-12, max_iter=100_000, n_init=1,
                                        init_params=init, reg_covar=1e-10, random_state=seed).fit(x)
                loglik = float(model.score(x) * len(x))
                if np.sqrt(model.covariances_.ravel()).min() < 1e-3 * x.std():
                    continue
                if best is None or loglik > best["loglik"]:
                    order = np.argsort(model.means_.ravel())
                    best = {"loglik": loglik, "init": f"{init} {seed}", "weight": model.weights_[order].tolist(),
                            "mean": model.means_.ravel()[order].tolist(),
                            "sd": np.sqrt(model.covariances_.ravel()[order]).tolist()}
        out[column][str(k)] = best
with open("sklearn_reference.json", "w") as handle:
    json.dump(out, handle, indent=2)
