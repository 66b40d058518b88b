// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "punch/proxy.h"
#include "util/endpoint.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char proxy_usage[] =
    "usage: punchlab proxy --listen 127.0.0.1:PORT [--port-base N] [--quiet]\n"
    "\n"
    "The local proxy: SOCKS5 CONNECT (RFC 1928, no authentication), so any SOCKS\n"
    "client can use it. Each outside connection bind()s the next port of its own\n"
    "sequence from --port-base (default 20000), skipping ports in use, which\n"
    "makes them predictable to S. The SOCKS reply comes when the outside\n"
    "connection is up or has failed, with the matching SOCKS code. Then it relays\n"
    "both ways until both sides have closed. One JSON line per outside connection\n"
    "on stderr unless --quiet.\n";

int proxy_main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"port-base", required_argument, NULL, 'b'},
	    {"quiet", no_argument, NULL, 'q'},
	    {NULL, 0, NULL, 0},
	};
	struct proxy_config c;
	const char *listen_s = NULL;
	int opt;

	proxy_config_defaults(&c);
	c.log = stderr;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end;
		long v;
		switch (opt) {
		case 'l':
			if (endpoint_parse(optarg, &c.listen, 1) < 0) {
				fprintf(stderr, "punchlab proxy: --listen wants ADDR:PORT\n");
				return EXIT_USAGE;
			}
			listen_s = optarg;
			break;
		case 'b':
			v = strtol(optarg, &end, 10);
			if (*end || v < 1024 || v > 65535) {
				fprintf(stderr,
					"punchlab proxy: --port-base must be 1024 to 65535\n");
				return EXIT_USAGE;
			}
			c.port_base = (uint16_t)v;
			break;
		case 'q':
			c.log = NULL;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (!listen_s || optind != argc) {
		fputs(proxy_usage, stderr);
		return EXIT_USAGE;
	}
	int rc = proxy_run(&c, cmd_stop_on_signal(), NULL);
	if (rc < 0) {
		fprintf(stderr, "punchlab proxy: cannot listen on %s: %s\n", listen_s,
			strerror(-rc));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
