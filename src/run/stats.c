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
