// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "punch/proxy.h"
#include "util/endpoint.h"
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
	    CMD_OPT_HELP,
	    {"listen", required_argument, NULL, 'l'},
	    {"port-base", required_argument, NULL, 'b'},
	    {"quiet", no_argument, NULL, 'q'},
	    {NULL, 0, NULL, 0},
	};
	struct proxy_config c;
	const char *listen_s = NULL;
	int opt, base;

	proxy_config_defaults(&c);
	c.log = stderr;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (cmd_endpoint_arg(argv[0], "--listen", optarg, true, &c.listen) < 0)
				return EXIT_USAGE;
			listen_s = optarg;
			break;
		case 'b':
			if (cmd_int_arg(argv[0], "--port-base", optarg, 1024, 65535, &base) < 0)
				return EXIT_USAGE;
			c.port_base = (uint16_t)base;
			break;
		case 'q':
			c.log = NULL;
			break;
		case 'h':
			return cmd_help(proxy_usage);
		default:
			return cmd_usage_error(proxy_usage);
		}
	}
	if (!listen_s || optind != argc)
		return cmd_usage_error(proxy_usage);
	int rc = proxy_run(&c, cmd_stop_on_signal(), NULL);
	if (rc < 0) {
		fprintf(stderr, "punchlab proxy: cannot listen on %s: %s\n", listen_s,
			strerror(-rc));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
