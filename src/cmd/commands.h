/* SPDX-License-Identifier: MIT */
/* The subcommands: each lives in its own file, with its help beside it. */
#pragma once

struct command {
	const char *name;
	int (*main)(int argc, char *argv[]);
	const char *summary;
	const char *usage; /* full help, printed by `punchlab help NAME` */
	int hidden;
};

extern const struct command commands[];
const struct command *command_by_name(const char *name);

int topo_main(int argc, char *argv[]);
int cleanup_main(int argc, char *argv[]);
int delayq_main(int argc, char *argv[]);
int server_main(int argc, char *argv[]);
int peer_main(int argc, char *argv[]);
int proxy_main(int argc, char *argv[]);
int session_main(int argc, char *argv[]);
int run_main(int argc, char *argv[]);
int merge_main(int argc, char *argv[]);
int table_main(int argc, char *argv[]);
int diff_main(int argc, char *argv[]);
int export_main(int argc, char *argv[]);
int plot_main(int argc, char *argv[]);
int predict_main(int argc, char *argv[]);

extern const char topo_usage[];
extern const char cleanup_usage[];
extern const char delayq_usage[];
extern const char server_usage[];
extern const char peer_usage[];
extern const char proxy_usage[];
extern const char session_usage[];
extern const char run_usage[];
extern const char merge_usage[];
extern const char table_usage[];
extern const char diff_usage[];
extern const char export_usage[];
extern const char plot_usage[];
extern const char predict_usage[];

/* Exit codes shared by all commands. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };
