// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include "punch/proxy.h"

Test(socks, greeting)
{
	int noauth = -1;
	cr_assert_eq(socks_parse_greeting((const uint8_t[]){5}, 1, &noauth), 0);
	cr_assert_eq(socks_parse_greeting((const uint8_t[]){5, 2, 2}, 3, &noauth), 0,
		     "needs all methods");
	cr_assert_eq(socks_parse_greeting((const uint8_t[]){5, 2, 2, 0}, 4, &noauth), 4);
	cr_assert_eq(noauth, 1);
	cr_assert_eq(socks_parse_greeting((const uint8_t[]){5, 1, 2}, 3, &noauth), 3);
	cr_assert_eq(noauth, 0, "only username/password offered");
	cr_assert_eq(socks_parse_greeting((const uint8_t[]){4, 1, 0}, 3, &noauth), -1, "SOCKS4");
}

Test(socks, connect_request)
{
	uint32_t addr;
	uint16_t port;
	const uint8_t req[] = {5, 1, 0, 1, 198, 18, 0, 3, 0x04, 0x05};
	for (size_t n = 0; n < sizeof(req); n++)
		cr_assert_eq(socks_parse_request(req, n, &addr, &port), 0, "partial at %zu", n);
	cr_assert_eq(socks_parse_request(req, sizeof(req), &addr, &port), 10);
	cr_assert_eq(addr, inet_addr("198.18.0.3"));
	cr_assert_eq(port, 1029);
}

Test(socks, refusals_carry_the_rfc_1928_codes)
{
	uint32_t addr;
	uint16_t port;
	/* BIND (2): command not supported (7) */
	cr_assert_eq(
	    socks_parse_request((const uint8_t[]){5, 2, 0, 1, 1, 2, 3, 4, 0, 80}, 10, &addr, &port),
	    -7);
	/* a domain name: address type not supported (8) here */
	cr_assert_eq(
	    socks_parse_request((const uint8_t[]){5, 1, 0, 3, 1, 'x', 0, 80}, 8, &addr, &port), -8);
	/* IPv6 likewise */
	uint8_t v6[22] = {5, 1, 0, 4};
	cr_assert_eq(socks_parse_request(v6, sizeof(v6), &addr, &port), -8);
	/* unknown address type */
	cr_assert_eq(socks_parse_request((const uint8_t[]){5, 1, 0, 9}, 4, &addr, &port), -8);
	/* not SOCKS5, or a reserved byte set: general failure */
	cr_assert_eq(socks_parse_request((const uint8_t[]){4, 1, 0, 1}, 4, &addr, &port), -1);
	cr_assert_eq(socks_parse_request((const uint8_t[]){5, 1, 7, 1}, 4, &addr, &port), -1);
	/* port 0 */
	cr_assert_eq(
	    socks_parse_request((const uint8_t[]){5, 1, 0, 1, 1, 2, 3, 4, 0, 0}, 10, &addr, &port),
	    -1);
}
