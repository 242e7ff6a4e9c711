# fitdistrplus::descdist's summary of three data sets in tests/data, with both of its methods
# ("unbiased", its default, and "sample"): the numbers tests/test_describe.py checks
# `mlfit describe` against. Run from this folder: Rscript describe_reference.R
# (R 4.2.2, fitdistrplus from Debian's r-cran-fitdistrplus).
suppressMessages({library(fitdistrplus); library(jsonlite)})
out <- list()
for (f in c("groundbeef", "rivers", "toxocara")) {
  x <- read.csv(file.path("..", paste0(f, ".csv")))[[1]]
  png(tempfile())  # descdist draws its graph; nothing of it is kept
  u <- descdist(x, method = "unbiased", graph = TRUE)
  s <- descdist(x, method = "sample", graph = FALSE)
  dev.off()
  out[[f]] <- list(n = length(x), min = u$min, max = u$max, median = u$median, mean = u$mean, sd = u$sd,
                   skewness_unbiased = u$skewness, kurtosis_unbiased = u$kurtosis,
                   skewness_sample = s$skewness, kurtosis_sample = s$kurtosis)
}
out[["_R"]] <- list(version = R.version.string, fitdistrplus = as.character(packageVersion("fitdistrplus")))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "describe_reference.json")
