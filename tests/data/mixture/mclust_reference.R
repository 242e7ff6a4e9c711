# mclust's fits of Old Faithful (R's datasets::faithful), the numbers tests/test_mixture.py checks
# mlfit's normal mixtures against. Run from this folder: Rscript mclust_reference.R (R 4.2.2 and
# mclust from Debian's r-cran-mclust, jsonlite). Writes faithful.csv and mclust_reference.json.
#
# For each column and K = 1..4: Mclust with unequal variances ("V"; "X" for one component), once
# with mclust's defaults (its hierarchical initialisation, its default tolerances) and once run to a
# tight tolerance from that start; the log-likelihood, BIC (mclust's sign: 2 log L - k log n) and
# the parameters, components sorted by their mean.
suppressMessages({library(mclust); library(jsonlite)})
write.csv(faithful, "faithful.csv", row.names = FALSE)
out <- list()
fitted <- function(fit) {
  o <- order(fit$parameters$mean)
  variance <- fit$parameters$variance$sigmasq
  if (length(variance) == 1) variance <- rep(variance, length(o))
  list(loglik = fit$loglik, bic = fit$bic, df = fit$df,
       weight = if (is.null(fit$parameters$pro)) 1 else fit$parameters$pro[o],
       mean = fit$parameters$mean[o], sd = sqrt(variance[o]))
}
for (column in c("eruptions", "waiting")) {
  x <- faithful[[column]]
  for (k in 1:4) {
    model <- if (k == 1) "X" else "V"
    default <- Mclust(x, G = k, modelNames = model, verbose = FALSE)
    tight <- Mclust(x, G = k, modelNames = model, verbose = FALSE,
                    control = emControl(tol = c(1e-12, 1e-12), itmax = c(100000, 100000)))
    out[[column]][[as.character(k)]] <- list(default = fitted(default), tight = fitted(tight))
  }
  best <- Mclust(x, G = 1:4, modelNames = c("V"), verbose = FALSE)
  out[[column]]$preferred_by_mclust <- best$G
}
out$versions <- list(R = R.version.string, mclust = as.character(packageVersion("mclust")))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "mclust_reference.json")
