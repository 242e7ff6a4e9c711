# R's fits of the families mlfit regress gained beyond the first five: the numbers
# tests/test_regress_families.py checks against. Run from this folder: Rscript families_reference.R
# (R 4.2.2; MASS and survival from Debian's r-cran-* packages, jsonlite). Writes airquality.csv,
# quine.csv, esoph.csv, lung.csv, lung_interval.csv and families_reference.json.
#
# Standard errors: `se` is what R prints (glm's expected information with its dispersion; survreg's
# observed information); `se_observed` is the inverse of optimHess (central differences of R's own
# log-likelihood) at R's estimate, with the shape/size estimated too: the quantity mlfit reports.
# `loglik` is the log-likelihood at R's estimates with the shape (gamma.shape) or size (glm.nb's theta)
# at their maximum-likelihood values.
suppressMessages({library(MASS); library(survival); library(jsonlite)})
out <- list()
sorted_levels <- function(x) factor(as.character(x), levels = sort(unique(as.character(x)), method = "radix"))
observed_se <- function(nll, par) sqrt(diag(solve(optimHess(par, nll))))

# gamma, log link: airquality
aq <- airquality[, c("Ozone", "Temp", "Wind")]
write.csv(aq, "airquality.csv", row.names = FALSE, na = "")
fit <- glm(Ozone ~ Temp + Wind, family = Gamma(link = "log"), data = aq, control = glm.control(epsilon = 1e-14, maxit = 100))
shape <- gamma.shape(fit, it.lim = 100, eps.max = 1e-12)
X <- model.matrix(fit); y <- fit$y
nll <- function(p) { mu <- exp(X %*% p[1:3]); k <- exp(p[4]); -sum(dgamma(y, shape = k, rate = k / mu, log = TRUE)) }
par <- c(coef(fit), log(shape$alpha))
out$airquality_gamma <- list(formula = "Ozone ~ Temp + Wind", dist = "gamma", coef = as.list(coef(fit)),
  se = as.list(summary(fit, dispersion = 1 / shape$alpha)$coefficients[, 2]),
  se_observed = as.list(observed_se(nll, par)[1:3]), shape = shape$alpha, shape_se = shape$SE,
  loglik = -nll(par), deviance = deviance(fit), n = nrow(X))

# lognormal: lm(log(y)) on the same rows, sigma by maximum likelihood (RSS / n)
fit <- lm(log(Ozone) ~ Temp + Wind, data = aq)
n <- length(fit$residuals); sigma <- sqrt(sum(fit$residuals^2) / n)
out$airquality_lognormal <- list(formula = "Ozone ~ Temp + Wind", dist = "lognormal", coef = as.list(coef(fit)),
  se = as.list(summary(fit)$coefficients[, 2] * sqrt((n - 3) / n)), scale = sigma,
  loglik = sum(dlnorm(exp(fit$model[[1]]), fit$fitted.values, sigma, log = TRUE)))

# negative binomial: quine
q <- quine
write.csv(q, "quine.csv", row.names = FALSE)
fit <- glm.nb(Days ~ Eth + Sex + Age + Lrn, data = q, control = glm.control(epsilon = 1e-14, maxit = 100))
X <- model.matrix(fit); y <- q$Days; p <- ncol(X)
nll <- function(b) { mu <- exp(X %*% b[1:p]); -sum(dnbinom(y, size = exp(b[p + 1]), mu = mu, log = TRUE)) }
par <- c(coef(fit), log(fit$theta))
out$quine_negbinomial <- list(formula = "Days ~ Eth + Sex + Age + Lrn", dist = "negbinomial", coef = as.list(coef(fit)),
  se = as.list(summary(fit)$coefficients[, 2]), se_observed = as.list(observed_se(nll, par)[1:p]),
  size = fit$theta, size_se = fit$SE.theta, loglik = as.numeric(logLik(fit)), deviance = deviance(fit))
# geometric: the negative binomial with size 1
fit <- glm(Days ~ Eth + Sex + Age + Lrn, family = negative.binomial(1), data = q,
           control = glm.control(epsilon = 1e-14, maxit = 100))
out$quine_geometric <- list(formula = "Days ~ Eth + Sex + Age + Lrn", dist = "geometric", coef = as.list(coef(fit)),
  se = as.list(summary(fit, dispersion = 1)$coefficients[, 2]),
  loglik = sum(dnbinom(y, size = 1, mu = fitted(fit), log = TRUE)), deviance = deviance(fit))

# poisson with an exposure: MASS's Insurance (insurance.csv, written by regress_reference.R)
ins <- read.csv("insurance.csv")
ins$Group <- sorted_levels(ins$Group); ins$Age <- sorted_levels(ins$Age)
fit <- glm(Claims ~ factor(District) + Group + Age + offset(log(Holders)), family = poisson, data = ins,
           control = glm.control(epsilon = 1e-14, maxit = 100))
out$insurance_exposure <- list(formula = "Claims ~ C(District) + Group + Age", dist = "poisson", exposure = "Holders",
  coef = as.list(coef(fit)), se = as.list(summary(fit)$coefficients[, 2]), loglik = as.numeric(logLik(fit)),
  deviance = deviance(fit))

# binomial with a column of trials: esoph (its ordered factors as plain ones, levels sorted)
e <- data.frame(agegp = sorted_levels(esoph$agegp), tobgp = sorted_levels(esoph$tobgp),
                alcgp = sorted_levels(esoph$alcgp), ncases = esoph$ncases, trials = esoph$ncases + esoph$ncontrols)
write.csv(e, "esoph.csv", row.names = FALSE)
fit <- glm(cbind(ncases, trials - ncases) ~ agegp + tobgp + alcgp, family = binomial, data = e,
           control = glm.control(epsilon = 1e-14, maxit = 100))
out$esoph_binomial <- list(formula = "ncases ~ agegp + tobgp + alcgp", dist = "binomial", trials = "trials",
  coef = as.list(coef(fit)), se = as.list(summary(fit)$coefficients[, 2]), loglik = as.numeric(logLik(fit)),
  deviance = deviance(fit))

# accelerated failure time models with right censoring: survival's lung (event = status - 1)
l <- data.frame(time = lung$time, event = lung$status - 1, age = lung$age, sex = lung$sex)
write.csv(l, "lung.csv", row.names = FALSE)
for (d in c("weibull", "lognormal", "exponential", "logistic")) {
  fit <- survreg(Surv(time, event) ~ age + sex, data = l, dist = d, control = survreg.control(rel.tolerance = 1e-13, maxiter = 100))
  k <- length(coef(fit))
  entry <- list(formula = "time ~ age + sex", dist = d, censored = "event", coef = as.list(coef(fit)),
    se = as.list(sqrt(diag(vcov(fit)))[1:k]), scale = fit$scale, loglik = fit$loglik[2])
  if (d != "exponential") entry$log_scale_se <- sqrt(diag(vcov(fit)))[k + 1]
  out[[paste0("lung_", d)]] <- entry
}
# interval censoring: lung's times grouped into 30-day intervals (right-censored rows keep an open right end)
li <- data.frame(left = floor(l$time / 30) * 30, right = ifelse(l$event == 1, floor(l$time / 30) * 30 + 30, NA),
                 age = l$age, sex = l$sex)
li$left[li$left == 0] <- NA  # within the first 30 days: left-censored
write.csv(li, "lung_interval.csv", row.names = FALSE, na = "")
fit <- survreg(Surv(left, right, type = "interval2") ~ age + sex, data = li, dist = "weibull",
               control = survreg.control(rel.tolerance = 1e-13, maxiter = 100))
out$lung_interval_weibull <- list(formula = "left ~ age + sex", dist = "weibull", left = "left", right = "right",
  coef = as.list(coef(fit)), se = as.list(sqrt(diag(vcov(fit)))[1:3]), scale = fit$scale, loglik = fit$loglik[2])

out$versions <- list(R = R.version.string, MASS = as.character(packageVersion("MASS")),
                     survival = as.character(packageVersion("survival")))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "families_reference.json")
