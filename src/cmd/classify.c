// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "classify/client.h"
#include <jansson.h>
#include <stdio.h>
#include <string.h>

const char classify_usage[] =
    "usage: punchlab classify --server A1:P1 [--json] [--long] [--timeout MS]\n"
    "                         [--long-budget S]\n"
    "\n"
    "What the NAT in front of this host does to TCP, in RFC 4787/5382 terms, found\n"
    "with a `punchlab classify-server` outside it (docs/field.md): mapping,\n"
    "filtering, port assignment, the answer to an unsolicited SYN, hairpinning;\n"
    "with --long also the lifetime of an idle binding, established and SYN_SENT\n"
    "(that one needs classify-server --sink-port), by bounded bisection: at most\n"
    "--long-budget s in all, default 600. --json prints the verdicts under the\n"
    "topology nat object's field names, with the evidence under \"observations\";\n"
    "a field the evidence does not decide is \"unknown\".\n"
    "--timeout: the wait for each reply and connection (default 3000 ms); the\n"
    "unsolicited SYN gets 8000 ms, over RFC 5382's 6 s. Exit 1 when the server\n"
    "could not be used at all.\n";

/* What of R goes into a topology's nat object: the verdicts the evidence
 * decided, without "unknown" ones (the profile's then stand) or the
 * observations. A new reference. */
static json_t *nat_object(json_t *r)
{
	json_t *nat = json_deep_copy(r), *t;
	const char *key;
	void *tmp;
	json_t *v;

	json_object_del(nat, "observations");
	if ((t = json_object_get(nat, "timeouts"))) {
		json_object_foreach_safe(t, tmp, key, v)
		{
			if (json_is_string(v))
				json_object_del(t, key);
		}
		if (!json_object_size(t))
			json_object_del(nat, "timeouts");
	}
	json_object_foreach_safe(nat, tmp, key, v)
	{
		if (json_is_string(v) && !strcmp(json_string_value(v), "unknown"))
			json_object_del(nat, key);
	}
	return nat;
}

/* The verdicts in a line each, their evidence beside them, then the nat
 * object to paste. */
static void summary(json_t *r)
{
	static const char *const keys[] = {"mapping", "filtering", "port_assignment",
					   "unsolicited_syn", "hairpin"};
	json_t *obs = json_object_get(r, "observations"), *srv = json_object_get(obs, "server");
	json_t *nat = nat_object(r);

	printf("server %s, seen as %s, %lld ms\n",
	       json_string_value(json_object_get(srv, "control")),
	       json_string_value(json_object_get(srv, "you")) ?: "?",
	       (long long)json_integer_value(json_object_get(obs, "elapsed_ms")));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(r, keys[i]);
		char val[48];
		if (json_is_string(v))
			snprintf(val, sizeof(val), "%s", json_string_value(v));
		else
			snprintf(val, sizeof(val), "%s", json_is_true(v) ? "true" : "false");
		if (!strcmp(keys[i], "port_assignment") && json_object_get(r, "delta"))
			snprintf(val + strlen(val), sizeof(val) - strlen(val), " (delta %lld)",
				 (long long)json_integer_value(json_object_get(r, "delta")));
		printf("%-19s %-28s ", keys[i], val);
		cmd_put_text(
		    stdout,
		    json_string_value(json_object_get(json_object_get(obs, keys[i]), "why")) ?: "");
		putchar('\n');
	}
	json_t *t = json_object_get(r, "timeouts"), *te = json_object_get(obs, "timeouts");
	static const char *const tk[] = {"syn_sent", "established"};
	for (size_t i = 0; t && i < 2; i++) {
		json_t *v = json_object_get(t, tk[i]);
		char val[48] = "unknown";
		if (json_is_integer(v))
			snprintf(val, sizeof(val), "%lld s", (long long)json_integer_value(v));
		printf("timeout %-11s %-28s ", tk[i], val);
		cmd_put_text(stdout,
			     json_string_value(json_object_get(json_object_get(te, tk[i]), "why"))
				 ?: "");
		putchar('\n');
	}
	fputs("as a topology nat object (unknowns left out): ", stdout);
	json_dumpf(nat, stdout, JSON_COMPACT | JSON_SORT_KEYS);
	putchar('\n');
	json_decref(nat);
}

int classify_main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    CMD_OPT_HELP,
	    {"server", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"long", no_argument, NULL, 'L'},
	    {"timeout", required_argument, NULL, 't'},
	    {"long-budget", required_argument, NULL, 'b'},
	    {NULL, 0, NULL, 0},
	};
	struct cc_config c = {.timeout_ms = 3000, .long_budget_s = CC_LONG_BUDGET_S};
	struct cv_obs o;
	bool have_server = false, json = false;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (cmd_endpoint_arg(argv[0], "--server", optarg, false, &c.server) < 0)
				return EXIT_USAGE;
			have_server = true;
			break;
		case 'j':
			json = true;
			break;
		case 'L':
			c.lng = true;
			break;
		case 't':
			if (cmd_int_arg(argv[0], "--timeout", optarg, 100, 60000, &c.timeout_ms) <
			    0)
				return EXIT_USAGE;
			break;
		case 'b':
			if (cmd_int_arg(argv[0], "--long-budget", optarg, 50, 3000,
					&c.long_budget_s) < 0)
				return EXIT_USAGE;
			break;
		case 'h':
			return cmd_help(classify_usage);
		default:
			return cmd_usage_error(classify_usage);
		}
	}
	if (!have_server || optind != argc)
		return cmd_usage_error(classify_usage);
	cc_run(&c, &o, cmd_stop_on_signal());
	json_t *r = cv_report(&o);
	if (json) {
		json_dumpf(r, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
	} else {
		summary(r);
	}
	json_decref(r);
	if (!o.welcomed) {
		fprintf(stderr, "%s: ", argv[0]);
		cmd_put_text(stderr, o.why);
		fputc('\n', stderr);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
