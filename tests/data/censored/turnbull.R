# The NPMLE of salinity and smokedfish with survival's survfit (Turnbull's EM for interval2 data),
# stored in turnbull.json. R 4.2.2, survival 3.4. Run from this folder: Rscript turnbull.R
suppressMessages(library(fitdistrplus)); suppressMessages(library(jsonlite)); suppressMessages(library(survival))
data(salinity); data(smokedfish)
out <- list()
for (name in c("salinity", "smokedfish")) {
  d <- get(name)
  fit <- survfit(Surv(d$left, d$right, type = "interval2") ~ 1)
  out[[name]] <- list(time = fit$time, surv = fit$surv)
}
writeLines(toJSON(out, digits = NA, pretty = TRUE), "turnbull.json")
