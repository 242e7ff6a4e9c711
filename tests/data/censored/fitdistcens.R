# The reference values in fitdistcens.json: R 4.2.2, fitdistrplus 1.1-8 (Debian's r-cran-fitdistrplus).
# Run from this folder: Rscript fitdistcens.R  (writes the three CSVs and the JSON)
suppressMessages(library(fitdistrplus))
suppressMessages(library(jsonlite))
data(salinity); data(smokedfish); data(fluazinam)
sets <- list(salinity = salinity, smokedfish = smokedfish, fluazinam = fluazinam)
families <- list(salinity = c("lnorm", "norm", "weibull", "gamma", "logis"),
                 smokedfish = c("lnorm", "weibull", "gamma"),
                 fluazinam = c("lnorm", "weibull", "gamma"))
out <- list()
for (name in names(sets)) {
  write.csv(sets[[name]], paste0(name, ".csv"), row.names = FALSE)
  for (fam in families[[name]]) {
    f <- tryCatch(fitdistcens(sets[[name]], fam, control = list(reltol = 1e-12, maxit = 10000)),
                  error = function(e) NULL)
    if (is.null(f)) next
    out[[paste(name, fam)]] <- list(data = name, family = fam, estimate = as.list(f$estimate),
                                    sd = as.list(f$sd), loglik = f$loglik, aic = f$aic, bic = f$bic)
  }
}
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "fitdistcens.json")
