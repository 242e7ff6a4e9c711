# survival's survreg on aml (sample_data/remission.csv), stored in survreg.json. R 4.2.2, survival 3.4.
# Run from this folder: Rscript survreg.R
suppressMessages(library(survival)); suppressMessages(library(jsonlite))
out <- list()
for (dist in c("weibull", "lognormal", "exponential")) {
  f <- survreg(Surv(time, status) ~ 1, data = aml, dist = dist)
  out[[dist]] <- list(intercept = unname(coef(f)), scale = f$scale, loglik = f$loglik[1])
}
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "survreg.json")
