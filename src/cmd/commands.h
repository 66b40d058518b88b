/* SPDX-License-Identifier: MIT */
/*
 * The subcommands. Each lives in its own file, cmd/NAME.c, with its help
 * beside it: NAME_main and NAME_usage, in the order `punchlab --help` lists
 * them (main.c holds the table). Each parses with getopt_long, prints NAME_usage
 * on stdout for -h/--help and on stderr, exit EXIT_USAGE, for a bad command
 * line (cmd/cmdutil.h). argv[0] is "punchlab NAME".
 */
#pragma once
#include <stdio.h>

struct command {
	const char *name;
	int (*main)(int argc, char *argv[]);
	const char *summary;
	const char *usage; /* full help: `punchlab help NAME`, `punchlab NAME --help` */
	int hidden;
	int labs;     /* works on labs: without root, enters user namespaces first */
	int rootless; /* how: enum rootless_mode (lab/rootless.h) */
};

/* The table, ending with a NULL name; main.c. */
extern const struct command commands[];
const struct command *command_by_name(const char *name);

/* cmd/topo.c */
int topo_main(int argc, char *argv[]);
extern const char topo_usage[];
/* lab/rootless.c, the hidden `punchlab keeper BASE` */
int keeper_main(int argc, char *argv[]);
extern const char keeper_usage[];
/* cmd/cleanup.c */
int cleanup_main(int argc, char *argv[]);
extern const char cleanup_usage[];
/* cmd/run.c */
int run_main(int argc, char *argv[]);
extern const char run_usage[];
/* cmd/table.c */
int table_main(int argc, char *argv[]);
extern const char table_usage[];
/* cmd/diff.c */
int diff_main(int argc, char *argv[]);
extern const char diff_usage[];
/* cmd/plot.c */
int plot_main(int argc, char *argv[]);
extern const char plot_usage[];
/* cmd/report.c */
int report_main(int argc, char *argv[]);
extern const char report_usage[];
/* cmd/timeline.c */
int timeline_main(int argc, char *argv[]);
extern const char timeline_usage[];
/* cmd/predict.c */
int predict_main(int argc, char *argv[]);
extern const char predict_usage[];
/* cmd/export.c */
int export_main(int argc, char *argv[]);
extern const char export_usage[];
/* cmd/merge.c */
int merge_main(int argc, char *argv[]);
extern const char merge_usage[];
/* cmd/slurm.c */
int slurm_main(int argc, char *argv[]);
extern const char slurm_usage[];
/* cmd/server.c */
int server_main(int argc, char *argv[]);
extern const char server_usage[];
/* cmd/peer.c; also the options `peer` and `rendezvous` share (--server,
 * --session, --role, --os, --probes, --seed): 0, or -1 said on stderr */
struct peer_config;
int peer_common_opt(int opt, const char *prog, struct peer_config *c);
int peer_main(int argc, char *argv[]);
extern const char peer_usage[];
/* cmd/rendezvous.c */
int rendezvous_main(int argc, char *argv[]);
extern const char rendezvous_usage[];
/* cmd/proxy.c */
int proxy_main(int argc, char *argv[]);
extern const char proxy_usage[];
/* cmd/session.c */
int session_main(int argc, char *argv[]);
extern const char session_usage[];
/* cmd/trace.c */
int trace_main(int argc, char *argv[]);
extern const char trace_usage[];
/* cmd/classify.c */
int classify_main(int argc, char *argv[]);
extern const char classify_usage[];
/* cmd/classify_server.c (the command is classify-server) */
int classify_server_main(int argc, char *argv[]);
extern const char classify_server_usage[];
/* cmd/help.c; help_list() is `punchlab --help`. */
int help_main(int argc, char *argv[]);
extern const char help_usage[];
void help_list(FILE *f);
/* cmd/delayq.c (hidden: lab.c starts it) */
int delayq_main(int argc, char *argv[]);
extern const char delayq_usage[];

/* Exit codes shared by all commands. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };
