/* SPDX-License-Identifier: MIT */
/* Statistics for results: success intervals and quantiles. */
#pragma once
#include <stddef.h>

/* Wilson score interval for K successes in N trials at z = 1.96 (95 %).
 * N == 0 gives [0, 1]. */
void wilson95(unsigned k, unsigned n, double *lo, double *hi);

/* The Q-quantile (0..1) of the N values in V, linear between order
 * statistics (R's type 7); sorts V. NAN when N == 0. */
double quantile(double *v, size_t n, double q);

/* Fisher's exact test, two-sided, for the 2x2 table [[a, b], [c, d]]
 * (successes and failures of two samples): the p-value. */
double fisher_exact(unsigned a, unsigned b, unsigned c, unsigned d);
