// SPDX-License-Identifier: MIT
#include "stats.h"
#include <math.h>
#include <stdlib.h>

void wilson95(unsigned k, unsigned n, double *lo, double *hi)
{
	const double z = 1.959963984540054;

	if (n == 0) {
		*lo = 0;
		*hi = 1;
		return;
	}
	double p = (double)k / n, z2n = z * z / n;
	double centre = (p + z2n / 2) / (1 + z2n);
	double half = z / (1 + z2n) * sqrt(p * (1 - p) / n + z2n / (4.0 * n));
	*lo = k == 0 ? 0 : centre - half;
	*hi = k == n ? 1 : centre + half;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double quantile(double *v, size_t n, double q)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	double h = (double)(n - 1) * q;
	size_t i = (size_t)floor(h);
	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (h - (double)i) * (v[i + 1] - v[i]);
}

static double log_choose(unsigned n, unsigned k)
{
	return lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0);
}

double fisher_exact(unsigned a, unsigned b, unsigned c, unsigned d)
{
	unsigned r1 = a + b, r2 = c + d, c1 = a + c, n = r1 + r2;
	if (n == 0)
		return 1;
	/* hypergeometric probability of x successes in the first row */
	double base = log_choose(n, c1);
	double p_obs = exp(log_choose(r1, a) + log_choose(r2, c) - base);
	unsigned lo = c1 > r2 ? c1 - r2 : 0, hi = c1 < r1 ? c1 : r1;
	double p = 0;
	for (unsigned x = lo; x <= hi; x++) {
		double px = exp(log_choose(r1, x) + log_choose(r2, c1 - x) - base);
		/* "as or more extreme": no likelier than the observed table */
		if (px <= p_obs * (1 + 1e-7))
			p += px;
	}
	return p > 1 ? 1 : p;
}
