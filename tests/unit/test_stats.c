// SPDX-License-Identifier: MIT
/* The statistics of results: Wilson intervals, quantiles, Fisher's exact test. */
#include <criterion/criterion.h>
#include <math.h>
#include "results/stats.h"

Test(stats, wilson_known_values)
{
	double lo, hi;
	/* Wilson (1927) score interval at z = 1.96; 81/263 is the example of
	 * Newcombe (1998), whose table gives 0.2553-0.3662 */
	wilson95(5, 10, &lo, &hi);
	cr_assert_float_eq(lo, 0.2366, 1e-4);
	cr_assert_float_eq(hi, 0.7634, 1e-4);
	wilson95(0, 10, &lo, &hi);
	cr_assert_float_eq(lo, 0, 1e-12);
	cr_assert_float_eq(hi, 0.2775, 1e-4);
	wilson95(10, 10, &lo, &hi);
	cr_assert_float_eq(lo, 0.7225, 1e-4);
	cr_assert_float_eq(hi, 1, 1e-12);
	wilson95(81, 263, &lo, &hi);
	cr_assert_float_eq(lo, 0.2553, 1e-4);
	cr_assert_float_eq(hi, 0.3662, 1e-4);
	wilson95(0, 0, &lo, &hi);
	cr_assert_float_eq(lo, 0, 1e-12);
	cr_assert_float_eq(hi, 1, 1e-12);
}

Test(stats, quantiles)
{
	double v[] = {5, 1, 4, 2, 3};
	cr_assert_float_eq(quantile(v, 5, 0.5), 3, 1e-12);
	cr_assert_float_eq(quantile(v, 5, 0.9), 4.6, 1e-12);
	cr_assert_float_eq(quantile(v, 5, 0), 1, 1e-12);
	cr_assert_float_eq(quantile(v, 5, 1), 5, 1e-12);
	double one[] = {7};
	cr_assert_float_eq(quantile(one, 1, 0.9), 7, 1e-12);
	cr_assert(isnan(quantile(one, 0, 0.5)));
}

Test(stats, fisher_exact_known_values)
{
	/* Fisher's tea-tasting table: 3 of 4 right each way */
	cr_assert_float_eq(fisher_exact(3, 1, 1, 3), 0.4857, 1e-4);
	/* complete separation, 10 and 10 */
	cr_assert_float_eq(fisher_exact(10, 0, 0, 10), 1.0825e-5, 1e-8);
	cr_assert_float_eq(fisher_exact(5, 5, 5, 5), 1.0, 1e-12);
	/* 20/20 against 12/20: 0.003276, computed exactly with integer binomials */
	cr_assert_float_eq(fisher_exact(20, 0, 12, 8), 0.003276, 1e-6);
	cr_assert_float_eq(fisher_exact(0, 0, 0, 0), 1.0, 1e-12);
}
