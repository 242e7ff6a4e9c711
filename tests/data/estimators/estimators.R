# Other estimators than maximum likelihood, stored in estimators.json. R 4.2.2, fitdistrplus 1.1-8.
# Run from this folder: Rscript estimators.R  (writes groundbeef.csv and the JSON)
suppressMessages(library(fitdistrplus)); suppressMessages(library(jsonlite))
data(groundbeef)
x <- groundbeef$serving
write.csv(groundbeef, "groundbeef.csv", row.names = FALSE)
ctl <- list(reltol = 1e-14, maxit = 100000)
one <- function(f) list(estimate = as.list(f$estimate), loglik = f$loglik,
                        gof = if (is.null(f$gof)) NULL else f$gof, probs = if (is.null(f$probs)) NULL else f$probs)
out <- list()
for (fam in c("gamma", "weibull", "lnorm")) {
  for (g in c("CvM", "KS", "AD")) {
    f <- fitdist(x, fam, method = "mge", gof = g, control = ctl)
    out[[paste(fam, g)]] <- c(one(f), list(family = fam, method = "mge", gof_name = g))
  }
  f <- fitdist(x, fam, method = "qme", probs = c(1/3, 2/3), control = ctl)
  out[[paste(fam, "qme")]] <- c(one(f), list(family = fam, method = "qme"))
}
for (fam in c("gamma", "lnorm", "norm", "exp")) {
  f <- fitdist(x, fam, method = "mme")
  out[[paste(fam, "mme")]] <- c(one(f), list(family = fam, method = "mme"))
}
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "estimators.json")
