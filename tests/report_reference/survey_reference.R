# The reference implementation for the baseline report's figures: R's survey package (Lumley),
# as Debian ships it (r-cran-survey). Run by test_survey_reference:
#   Rscript survey_reference.R DESIGN.csv FIGURES.csv OUT.csv
# DESIGN.csv: `ck-aggregator export --design` (one row per visit: stratum, weight, fpc, and
#   every indicator's domain flag, x and y).
# FIGURES.csv: which figures to redo: scope_level, scope_name, indicator, kind, scale (100 for a
#   figure the report shows in percent, else 1).
# OUT.csv: for each figure R's value, se, low, high (scaled like the report), and for shares
#   also the svyciprop(method = "logit") interval, which fits a GLM and so agrees with the
#   exact "xlogit" interval only to the GLM's convergence tolerance.
#
# The design as the report defines it (README, "Statistics"):
# * one stage, strata = cluster x size class (design_stratum), weights N_h / n_h;
# * finite population correction only where n_h / N_h >= 5%: R applies fpc whenever it is
#   given, so the export gives N_h there and Inf elsewhere (R reads Inf as "no correction");
# * a stratum with one responding unit: options(survey.lonely.psu = "adjust");
# * domains by subset() of the whole design (units outside still count in n_h);
# * 95% intervals with the normal quantile (df = Inf), not R's default t on the design's
#   degrees of freedom;
# * shares: svymean, interval svyciprop(method = "xlogit") (the report's default, logit);
#   means: svymean; ratios: svyratio; totals: svytotal; all with confint() (Wald);
# * medians: svyquantile(qrule = "math", interval.type = "mean", df = Inf): the smallest value
#   whose cumulative weight reaches half the total, and Woodruff's interval centred on the
#   estimated share at or below the median.
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "adjust")

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 3) stop("usage: Rscript survey_reference.R DESIGN.csv FIGURES.csv OUT.csv")
micro <- read.csv(args[1], stringsAsFactors = FALSE, na.strings = "", check.names = FALSE)
figures <- read.csv(args[2], stringsAsFactors = FALSE, na.strings = "", check.names = FALSE)
micro <- micro[micro$responded == 1, ]
if (nrow(micro) == 0) stop("no responding visits in ", args[1])
micro$fpc_population[is.na(micro$fpc_population)] <- Inf

design <- svydesign(ids = ~1, strata = ~design_stratum, weights = ~weight, fpc = ~fpc_population,
                    data = micro)

inScope <- function(level, name) {
  switch(level,
         nation = rep(TRUE, nrow(micro)),
         cluster = micro$cluster == name,
         state = micro$state == name,
         district = micro$district == name,
         sector = micro$sector == name,
         stop("unknown scope level ", level))
}

z <- qnorm(0.975)
rows <- vector("list", nrow(figures))
for (k in seq_len(nrow(figures))) {
  f <- figures[k, ]
  d <- micro[[paste0(f$indicator, "__d")]]
  if (is.null(d)) stop("indicator ", f$indicator, " is not in the design export")
  keep <- inScope(f$scope_level, f$scope_name) & !is.na(d) & d == 1
  sub <- subset(design, keep)
  sub$variables$y <- sub$variables[[paste0(f$indicator, "__y")]]
  sub$variables$x <- sub$variables[[paste0(f$indicator, "__x")]]
  logitLow <- NA
  logitHigh <- NA
  if (f$kind == "share") {
    m <- svymean(~y, sub)
    value <- coef(m)[[1]]
    se <- SE(m)[[1]]
    ci <- attr(svyciprop(~y, sub, method = "xlogit", df = Inf), "ci")
    low <- ci[[1]]
    high <- ci[[2]]
    if (value > 0 && value < 1) {
      g <- attr(suppressWarnings(svyciprop(~y, sub, method = "logit", df = Inf)), "ci")
      logitLow <- g[[1]]
      logitHigh <- g[[2]]
    }
  } else if (f$kind == "mean") {
    m <- svymean(~y, sub)
    value <- coef(m)[[1]]
    se <- SE(m)[[1]]
    ci <- confint(m, df = Inf)
    low <- ci[1, 1]
    high <- ci[1, 2]
  } else if (f$kind == "ratio") {
    r <- svyratio(~y, ~x, sub)
    value <- coef(r)[[1]]
    se <- SE(r)[[1]]
    ci <- confint(r, df = Inf)
    low <- ci[1, 1]
    high <- ci[1, 2]
  } else if (f$kind == "total") {
    m <- svytotal(~y, sub)
    value <- coef(m)[[1]]
    se <- SE(m)[[1]]
    ci <- confint(m, df = Inf)
    low <- ci[1, 1]
    high <- ci[1, 2]
  } else if (f$kind == "median") {
    q <- svyquantile(~y, sub, quantiles = 0.5, qrule = "math", interval.type = "mean", df = Inf, ci = TRUE)
    r <- q[[1]]
    value <- r[1, "quantile"]
    low <- r[1, 2]
    high <- r[1, 3]
    se <- r[1, "se"]
  } else {
    stop("unknown indicator kind ", f$kind)
  }
  s <- f$scale
  rows[[k]] <- data.frame(scope_level = f$scope_level, scope_name = f$scope_name, indicator = f$indicator,
                          kind = f$kind, observations = sum(keep), value = value * s, se = se * s,
                          low = low * s, high = high * s, glm_logit_low = logitLow * s,
                          glm_logit_high = logitHigh * s, stringsAsFactors = FALSE)
}
out <- do.call(rbind, rows)
for (col in c("value", "se", "low", "high", "glm_logit_low", "glm_logit_high"))
  out[[col]] <- ifelse(is.na(out[[col]]), "NA", sprintf("%.17g", out[[col]]))
write.csv(out, args[3], row.names = FALSE, quote = TRUE)
cat("survey", as.character(packageVersion("survey")), "on", R.version.string, ":", nrow(out), "figures\n")
