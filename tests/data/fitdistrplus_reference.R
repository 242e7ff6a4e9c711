# The numbers in fitdistrplus_reference.json, from R's fitdistrplus (MLE, its defaults).
# Run: Rscript tests/data/fitdistrplus_reference.R  (from the project root; needs r-cran-fitdistrplus and r-cran-jsonlite)
# It also writes the data files it fits: groundbeef.csv (fitdistrplus' serving sizes, g),
# toxocara.csv (fitdistrplus' parasite counts), rivers.csv (R's datasets::rivers, miles) and
# proportions.csv (simulated beta data).
suppressMessages(library(fitdistrplus))
data(groundbeef); data(toxocara)
set.seed(20261127)
proportions <- round(rbeta(200, 2.5, 6), 6)
datasets <- list(groundbeef = groundbeef$serving, toxocara = toxocara$number, rivers = datasets::rivers,
                 proportions = proportions)
columns <- c(groundbeef = "serving", toxocara = "number", rivers = "miles", proportions = "share")
for (name in names(datasets)) {
  frame <- data.frame(datasets[[name]]); names(frame) <- columns[[name]]
  write.csv(frame, file.path("tests/data", paste0(name, ".csv")), row.names = FALSE)
}
cases <- list(
  groundbeef = c("norm", "lnorm", "gamma", "weibull", "exp", "logis", "cauchy", "unif"),
  rivers = c("norm", "lnorm", "gamma", "weibull", "exp", "logis", "cauchy"),
  toxocara = c("pois", "nbinom", "geom"),
  proportions = c("beta", "norm", "lnorm", "gamma", "weibull", "logis")
)
out <- list()
for (name in names(cases)) for (dist in cases[[name]]) {
  fit <- tryCatch(fitdist(datasets[[name]], dist), error = function(e) conditionMessage(e))
  key <- paste(name, dist, sep = ":")
  if (is.character(fit)) {
    out[[key]] <- list(error = fit)
  } else {
    out[[key]] <- list(estimate = as.list(fit$estimate), sd = if (is.null(fit$sd)) NULL else as.list(fit$sd),
                       loglik = fit$loglik, aic = fit$aic, bic = fit$bic, convergence = fit$convergence)
  }
}
writeLines(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "tests/data/fitdistrplus_reference.json")
