# R's fits of the data sets in this folder: the numbers tests/test_regress_reference.py checks
# mlfit regress against. Run from this folder: Rscript regress_reference.R
# (R 4.2.2; quantreg, nnet and MASS from Debian's r-cran-* packages). Writes the CSVs and
# regress_reference.json.
suppressMessages({library(quantreg); library(nnet); library(MASS); library(jsonlite)})
out <- list()
put <- function(name, fit, formula, dist, extra = list()) {
  s <- summary(fit)
  co <- coef(fit)
  entry <- list(formula = formula, dist = dist, coef = as.list(co),
                loglik = as.numeric(logLik(fit)))
  if (inherits(fit, "glm")) {
    entry$se <- as.list(s$coefficients[, 2])
    entry$p_value <- as.list(s$coefficients[, 4])
    entry$deviance <- deviance(fit)
    entry$null_deviance <- fit$null.deviance
    entry$aic <- AIC(fit)
  }
  if (inherits(fit, "lm") && !inherits(fit, "glm")) {
    entry$se_ols <- as.list(s$coefficients[, 2])
    entry$sigma_ols <- s$sigma
    entry$aic <- AIC(fit)
    entry$bic <- BIC(fit)
  }
  out[[name]] <<- c(entry, extra)
}
# ordinary least squares with a factor
cars <- mtcars
write.csv(cars[, c("mpg", "wt", "hp", "cyl", "am")], "mtcars.csv", row.names = FALSE)
put("mtcars_lm", lm(mpg ~ wt + hp + factor(cyl), data = cars), "mpg ~ wt + hp + C(cyl)", "normal")
# logistic regression
put("mtcars_logit", glm(am ~ wt + hp, family = binomial, data = cars), "am ~ wt + hp", "bernoulli")
# factors with their levels in sorted (C-locale) order, as formulaic sorts them: the first is the reference
sorted_levels <- function(x) factor(as.character(x), levels = sort(unique(as.character(x)), method = "radix"))
# Poisson log-linear with two factors
warpbreaks$tension <- sorted_levels(warpbreaks$tension)
write.csv(warpbreaks, "warpbreaks.csv", row.names = FALSE)
put("warpbreaks_poisson", glm(breaks ~ wool + tension, family = poisson, data = warpbreaks),
    "breaks ~ wool + tension", "poisson")
# Poisson with an offset
ins <- Insurance
ins$Group <- sorted_levels(ins$Group)
ins$Age <- sorted_levels(ins$Age)
ins$District <- as.integer(as.character(ins$District))
write.csv(ins, "insurance.csv", row.names = FALSE)
put("insurance_offset", glm(Claims ~ factor(District) + Group + Age + offset(log(Holders)), family = poisson, data = ins),
    "Claims ~ C(District) + Group + Age + offset(np.log(Holders))", "poisson")
# weighted logistic regression (a frequency table)
ucb <- as.data.frame(UCBAdmissions)
ucb$admitted <- as.integer(ucb$Admit == "Admitted")
ucb$Gender <- sorted_levels(ucb$Gender)
ucb$Dept <- sorted_levels(ucb$Dept)
write.csv(ucb[, c("admitted", "Gender", "Dept", "Freq")], "ucb_admissions.csv", row.names = FALSE)
put("ucb_weighted_logit", glm(admitted ~ Gender + Dept, family = binomial, weights = Freq, data = ucb),
    "admitted ~ Gender + Dept", "bernoulli", list(weights = "Freq"))
# multinomial logit (softmax) with weights, converged tightly
housing <- MASS::housing
for (v in c("Sat", "Infl", "Type", "Cont")) housing[[v]] <- sorted_levels(housing[[v]])
write.csv(housing, "housing.csv", row.names = FALSE)
multinomial <- function(fit, formula, extra = list()) {
  mc <- coef(fit)
  ms <- summary(fit)$standard.errors
  c(list(formula = formula, dist = "categorical",
         coef = lapply(split(mc, rownames(mc)), function(r) setNames(as.list(r), colnames(mc))),
         se = lapply(split(ms, rownames(ms)), function(r) setNames(as.list(r), colnames(ms))),
         loglik = as.numeric(logLik(fit)), deviance = deviance(fit)), extra)
}
out[["housing_multinom"]] <- multinomial(
  multinom(Sat ~ Infl + Type + Cont, weights = Freq, data = housing, reltol = 1e-16, abstol = 1e-300,
           maxit = 10000, trace = FALSE),
  "Sat ~ Infl + Type + Cont", list(weights = "Freq"))
# iris by its sepals alone: setosa is linearly separable from the others, so the MLE does not
# exist; multinom stops where its optimiser does and prints large finite coefficients.
write.csv(iris, "iris.csv", row.names = FALSE)
out[["iris_separated"]] <- multinomial(
  multinom(Species ~ Sepal.Length + Sepal.Width, data = iris, maxit = 10000, trace = FALSE),
  "Species ~ `Sepal.Length` + `Sepal.Width`")
# least absolute deviations (median regression), the Barrodale-Roberts simplex
write.csv(stackloss, "stackloss.csv", row.names = FALSE)
rq_fit <- rq(stack.loss ~ Air.Flow + Water.Temp + Acid.Conc., tau = 0.5, data = stackloss)
out[["stackloss_lad"]] <- list(formula = "`stack.loss` ~ `Air.Flow` + `Water.Temp` + `Acid.Conc.`", dist = "laplace",
  coef = as.list(coef(rq_fit)), sum_abs_residuals = sum(abs(resid(rq_fit))))
out[["_R"]] <- list(version = R.version.string, quantreg = as.character(packageVersion("quantreg")),
                    nnet = as.character(packageVersion("nnet")), MASS = as.character(packageVersion("MASS")))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "regress_reference.json")
