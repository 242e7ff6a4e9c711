# fitdistrplus's chi-square cells (gofstat), stored in gofstat.json. R 4.2.2, fitdistrplus 1.1-8.
# Run from this folder: Rscript gofstat.R  (writes discoveries.csv, groundbeef.csv and the JSON)
suppressMessages(library(fitdistrplus)); suppressMessages(library(jsonlite))
data(discoveries); data(groundbeef)
write.csv(data.frame(discoveries = as.numeric(discoveries)), "discoveries.csv", row.names = FALSE)
write.csv(groundbeef, "groundbeef.csv", row.names = FALSE)
cells <- function(g) list(chisq = unname(g$chisq), pvalue = unname(g$chisqpvalue), df = unname(g$chisqdf),
                          breaks = g$chisqbreaks, observed = unname(g$chisqtable[, 1]),
                          expected = unname(g$chisqtable[, 2]))
pois <- fitdist(as.numeric(discoveries), "pois")
nbinom <- fitdist(as.numeric(discoveries), "nbinom")
gamma <- fitdist(groundbeef$serving, "gamma")
out <- list(
  discoveries_pois = c(cells(gofstat(pois)), estimate = list(as.list(pois$estimate))),
  discoveries_pois_breaks = cells(gofstat(pois, chisqbreaks = c(1, 2, 3, 5))),
  discoveries_nbinom = c(cells(gofstat(nbinom)), estimate = list(as.list(nbinom$estimate))),
  groundbeef_gamma = c(cells(gofstat(gamma)), estimate = list(as.list(gamma$estimate))),
  groundbeef_gamma_breaks = cells(gofstat(gamma, chisqbreaks = c(40, 60, 80, 100)))
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "gofstat.json")
