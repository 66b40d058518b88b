// SPDX-License-Identifier: MIT
/*
 * The paper's system end to end, in two-nats.json with home-2009 NATs whose
 * outside links have 10 ms of delay each way (see the README: with none, a
 * SYN reaches the far NAT before that NAT's own peer has sent its SYN).
 */
#include "labtest.h"
#include "capture/capture.h"
#include "lab/netns.h"
#include "punch/peer.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

TestSuite(punch, .init = lt_init, .fini = lt_fini, .timeout = 90);

#define SERVER "198.18.0.1:7777"

static void wan_delay(json_t *root, void *arg)
{
	json_object_set_new(lt_member(root, "internet", "nat-a"), "delay_ms", json_real(10));
	json_object_set_new(lt_member(root, "internet", "nat-b"), "delay_ms", json_real(10));
}

static struct lt *lab_with_server(const char *tag)
{
	struct lt *lab = lt_up("two-nats.json", tag, wan_delay, NULL);
	char *argv[] = {"punchlab", "server", "--listen", SERVER, NULL};
	lt_spawn(lab, "server", "server", argv, NULL);
	/* wait until it answers */
	for (int i = 0; i < 100; i++) {
		int fd = lt_connect(lab, "peer-a", inet_addr("198.18.0.1"), 7777, 0, 200);
		if (fd >= 0) {
			close(fd);
			return lab;
		}
		usleep(20000);
	}
	cr_assert_fail("the server did not start");
	return NULL;
}

static void new_session(struct lt *lab, char *hex)
{
	struct sockaddr_in s = {.sin_family = AF_INET,
				.sin_port = htons(7777),
				.sin_addr.s_addr = inet_addr("198.18.0.1")};
	uint8_t tok[PROTO_TOKEN_LEN];
	char err[256];
	int nsfd = lab_node_nsfd(lab->name, "peer-a"), saved;
	cr_assert_eq(netns_enter(nsfd, &saved), 0);
	int rc = peer_open_session(&s, tok, err, sizeof(err));
	netns_leave(saved);
	close(nsfd);
	cr_assert_eq(rc, 0, "%s", err);
	proto_hex(tok, PROTO_TOKEN_LEN, hex);
}

struct trial {
	json_t *a, *b;
	int rc_a, rc_b;
};

/* One session: peer A and peer B with the given extra arguments. */
static struct trial run_pair(struct lt *lab, const char *tag, const char *const *extra_a,
			     const char *const *extra_b)
{
	char tok[2 * PROTO_TOKEN_LEN + 1];
	new_session(lab, tok);
	char *argv[2][24];
	const char *const *extra[2] = {extra_a, extra_b};
	int fd[2];
	pid_t pid[2];
	for (int i = 0; i < 2; i++) {
		int k = 0;
		argv[i][k++] = "punchlab";
		argv[i][k++] = "peer";
		argv[i][k++] = "--server";
		argv[i][k++] = SERVER;
		argv[i][k++] = "--session";
		argv[i][k++] = tok;
		argv[i][k++] = "--role";
		argv[i][k++] = i ? "b" : "a";
		argv[i][k++] = "--rounds";
		argv[i][k++] = "3";
		for (int e = 0; extra[i] && extra[i][e] && k < 22; e++)
			argv[i][k++] = (char *)extra[i][e];
		argv[i][k] = NULL;
		pid[i] = lt_spawn(lab, i ? "peer-b" : "peer-a", tag, argv[i], &fd[i]);
	}
	struct trial t;
	t.a = lt_read_json(fd[0]);
	t.b = lt_read_json(fd[1]);
	t.rc_a = lt_wait(pid[0], 30000);
	t.rc_b = lt_wait(pid[1], 30000);
	return t;
}

static bool connected(json_t *r)
{
	return json_is_true(json_object_get(r, "connected"));
}

static const char *reason(json_t *r)
{
	return json_string_value(json_object_get(r, "reason"));
}

Test(punch, windows_xp_with_windows_xp_connects)
{
	struct lt *lab = lab_with_server("xpxp");
	const char *xp[] = {"--os", "windows-xp", "--bytes", "65536", NULL};
	struct trial t = run_pair(lab, "xpxp", xp, xp);
	char *sa = json_dumps(t.a, 0), *sb = json_dumps(t.b, 0);
	cr_assert(connected(t.a) && connected(t.b), "a: %s\nb: %s", sa, sb);
	cr_assert_eq(t.rc_a, 0);
	cr_assert_eq(t.rc_b, 0);
	cr_assert_leq(json_integer_value(json_object_get(t.a, "rounds")), 3);
	cr_assert_eq(json_integer_value(json_object_get(t.a, "bytes")), 65536,
		     "data checked both ways");
	cr_log_info("windows-xp x windows-xp: %s", sa);
	free(sa);
	free(sb);
	json_decref(t.a);
	json_decref(t.b);
	lt_down(lab);
}

Test(punch, linux_2_6_with_windows_xp_is_mispredicted)
{
	struct lt *lab = lab_with_server("l26xp");
	const char *lin[] = {"--os", "linux-2.6", NULL}, *xp[] = {"--os", "windows-xp", NULL};
	struct trial t = run_pair(lab, "l26xp", lin, xp);
	char *sa = json_dumps(t.a, 0);
	cr_assert(!connected(t.a) && !connected(t.b), "%s", sa);
	cr_assert_eq(t.rc_a, 1);
	cr_assert_str_eq(reason(t.a), "mispredicted", "%s", sa);
	cr_assert_str_eq(reason(t.b), "mispredicted");
	free(sa);
	json_decref(t.a);
	json_decref(t.b);
	lt_down(lab);
}

Test(punch, linux_2_6_through_its_proxy_with_windows_xp_connects)
{
	struct lt *lab = lab_with_server("l26px");
	char *pargv[] = {"punchlab", "proxy", "--listen", "127.0.0.1:1080", NULL};
	lt_spawn(lab, "peer-a", "proxy", pargv, NULL);
	for (int i = 0; i < 100; i++) {
		int fd = lt_connect(lab, "peer-a", inet_addr("127.0.0.1"), 1080, 0, 200);
		if (fd >= 0) {
			close(fd);
			break;
		}
		usleep(20000);
	}
	const char *lin[] = {"--os", "linux-2.6", "--proxy", "127.0.0.1:1080", NULL};
	const char *xp[] = {"--os", "windows-xp", NULL};
	struct trial t = run_pair(lab, "l26px", lin, xp);
	char *sa = json_dumps(t.a, 0), *sb = json_dumps(t.b, 0);
	cr_assert(connected(t.a) && connected(t.b), "a: %s\nb: %s", sa, sb);
	cr_assert(json_is_true(json_object_get(t.a, "proxy")));
	/* the proxy's ports: 20000 on, one per connection */
	json_t *seen = json_array_get(json_object_get(t.a, "ports_seen"), 0);
	cr_assert_geq(json_integer_value(json_array_get(seen, 0)), 20000);
	free(sa);
	free(sb);
	json_decref(t.a);
	json_decref(t.b);
	lt_down(lab);
}

/* This kernel's own allocator: whatever happens, the line says it truthfully. */
Test(punch, native_with_native_reports_truthfully)
{
	struct lt *lab = lab_with_server("natv");
	struct trial t = run_pair(lab, "natv", NULL, NULL);
	static const char *const reasons[] = {"mispredicted", "rst",	       "timeout",
					      "no-hairpin",   "proxy-error",   "server-error",
					      "peer-gone",    "verify-failed", NULL};
	json_t *r[2] = {t.a, t.b};
	int rc[2] = {t.rc_a, t.rc_b};
	for (int i = 0; i < 2; i++) {
		char *s = json_dumps(r[i], 0);
		cr_log_info("native: %s", s);
		cr_assert_str_eq(json_string_value(json_object_get(r[i], "os")), "native");
		cr_assert_eq(rc[i], connected(r[i]) ? 0 : 1, "%s", s);
		json_t *seen = json_object_get(r[i], "ports_seen"),
		       *pred = json_object_get(r[i], "ports_predicted");
		cr_assert(json_array_size(seen) >= 1 && json_array_size(seen) <= 3, "%s", s);
		cr_assert_eq(json_array_size(seen), json_array_size(pred));
		cr_assert_eq(json_integer_value(json_object_get(r[i], "rounds")),
			     (json_int_t)json_array_size(seen));
		if (connected(r[i])) {
			cr_assert(json_is_null(json_object_get(r[i], "reason")));
			cr_assert(json_is_number(json_object_get(r[i], "time_to_connect_ms")));
		} else {
			bool known = false;
			for (int k = 0; reasons[k]; k++)
				known |= reason(r[i]) && !strcmp(reason(r[i]), reasons[k]);
			cr_assert(known, "reason not in the closed list: %s", s);
		}
		free(s);
	}
	cr_assert_eq(connected(t.a), connected(t.b), "one side connected, the other not");
	json_decref(t.a);
	json_decref(t.b);
	lt_down(lab);
}

/* The capture during a connected trial shows a real simultaneous open: both
 * SYNs, without ACK, crossing on the public segment, before any SYN-ACK. */
Test(punch, the_syns_cross_on_the_wire)
{
	struct lt *lab = lab_with_server("cross");
	int nsfd = lab_node_nsfd(lab->name, "nat-a");
	struct capture *cap;
	char err[256];
	cr_assert_eq(cap_start(&cap, nsfd, "internet", NULL, err, sizeof(err)), 0, "%s", err);
	const char *xp[] = {"--os", "windows-xp", NULL};
	struct trial t = run_pair(lab, "cross", xp, xp);
	usleep(50000);
	struct cap_event *ev;
	size_t n;
	unsigned drops;
	cap_stop(cap, &ev, &n, &drops, NULL, 0);
	close(nsfd);
	cr_assert(connected(t.a) && connected(t.b));
	cr_assert_eq(drops, 0);
	/* a's and b's external endpoints of the connected attempt */
	unsigned pa =
	    (unsigned)atoi(strrchr(json_string_value(json_object_get(t.b, "remote")), ':') + 1);
	unsigned pb =
	    (unsigned)atoi(strrchr(json_string_value(json_object_get(t.a, "remote")), ':') + 1);
	uint32_t na = inet_addr("198.18.0.2"), nb = inet_addr("198.18.0.3");
	double syn_ab = -1, syn_ba = -1, first_synack = -1;
	for (size_t i = 0; i < n; i++) {
		struct cap_event *e = &ev[i];
		bool ab = e->saddr == na && e->daddr == nb && e->sport == pa && e->dport == pb;
		bool ba = e->saddr == nb && e->daddr == na && e->sport == pb && e->dport == pa;
		if (!ab && !ba)
			continue;
		if ((e->flags & (CAP_SYN | CAP_ACK)) == CAP_SYN) {
			if (ab && syn_ab < 0)
				syn_ab = e->t;
			if (ba && syn_ba < 0)
				syn_ba = e->t;
		} else if ((e->flags & (CAP_SYN | CAP_ACK)) == (CAP_SYN | CAP_ACK) &&
			   first_synack < 0) {
			first_synack = e->t;
		}
	}
	cr_log_info("%zu SYN/RST packets on nat-a's outside; SYN a->b at %.6f, b->a at %.6f, "
		    "first SYN-ACK at %.6f",
		    n, syn_ab, syn_ba, first_synack);
	cr_assert_geq(syn_ab, 0, "no SYN from a to b (%u -> %u)", pa, pb);
	cr_assert_geq(syn_ba, 0, "no SYN from b to a");
	cr_assert(first_synack < 0 || (first_synack >= syn_ab && first_synack >= syn_ba),
		  "a SYN-ACK came before both SYNs: a listen/accept, not a simultaneous open");
	free(ev);
	json_decref(t.a);
	json_decref(t.b);
	lt_down(lab);
}

Test(punch, a_wrong_token_is_refused_and_learns_nothing)
{
	struct lt *lab = lab_with_server("tok");
	char real[2 * PROTO_TOKEN_LEN + 1];
	new_session(lab, real); /* a real session exists beside it */
	char *argv[] = {"punchlab", "peer",	 "--server",
			SERVER,	    "--session", "00112233445566778899aabbccddeeff",
			"--role",   "a",	 NULL};
	int fd;
	pid_t pid = lt_spawn(lab, "peer-a", "tok", argv, &fd);
	json_t *r = lt_read_json(fd);
	cr_assert_eq(lt_wait(pid, 10000), 1);
	char *s = json_dumps(r, 0);
	cr_assert_str_eq(reason(r), "server-error", "%s", s);
	cr_assert(strstr(json_string_value(json_object_get(r, "error")), "unknown-session"), "%s",
		  s);
	cr_assert(json_is_null(json_object_get(r, "remote")), "%s", s);
	cr_assert_eq(json_array_size(json_object_get(r, "ports_predicted")), 0);
	char errpath[256], line[512];
	snprintf(errpath, sizeof(errpath), "/tmp/punchlab-test-%s-peer-a-tok.err", lab->name);
	FILE *f = fopen(errpath, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(line, sizeof(line), f));
	fclose(f);
	unlink(errpath);
	cr_assert(strstr(line, "unknown-session: no such session"), "stderr: %s", line);
	free(s);
	json_decref(r);
	lt_down(lab);
}

/* CPU seconds PID has used (utime + stime, /proc/PID/stat fields 14 and 15). */
static double cpu_seconds(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long ut = 0, st = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	cr_assert_not_null(p);
	/* after ')': state (3) ... utime (14) stime (15) */
	cr_assert_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st),
		     2);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/*
 * A server out of descriptors (40, as `prlimit --nofile=40:40`), with idle
 * clients holding them all and more waiting in the backlog, neither spins on
 * its readable listener nor locks new sessions out: it backs off and sheds
 * the connection idle longest.
 */
Test(punch, server_at_the_descriptor_limit)
{
	struct lt *lab = lab_with_server("nofile");
	/* the server is the only punchlab in the lab's server namespace */
	char cmd[256], line[64];
	snprintf(cmd, sizeof(cmd), "ip netns pids pl-%s-server", lab->name);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	pid_t srv = 0;
	while (fgets(line, sizeof(line), p))
		srv = (pid_t)atoi(line);
	pclose(p);
	cr_assert_gt(srv, 0, "no server process in pl-%s-server", lab->name);
	struct rlimit lim = {40, 40};
	cr_assert_eq(prlimit(srv, RLIMIT_NOFILE, &lim, NULL), 0, "prlimit: %s", strerror(errno));
	int idle[60];
	for (int i = 0; i < 60; i++) {
		/* accepted by the kernel's backlog whether or not the server takes it */
		idle[i] = lt_connect(lab, "peer-a", inet_addr("198.18.0.1"), 7777, 0, 2000);
		cr_assert_geq(idle[i], 0, "idle connection %d: %s", i, strerror(-idle[i]));
	}
	usleep(300000);
	double c0 = cpu_seconds(srv), t0 = lt_now_ms();
	usleep(2000000);
	double busy = (cpu_seconds(srv) - c0) / ((lt_now_ms() - t0) / 1000);
	cr_log_info("server CPU at the descriptor limit: %.0f %%", busy * 100);
	cr_assert_lt(busy, 0.2, "the server spins at %.0f %% of a core with no descriptor left",
		     busy * 100);
	/* a new session gets through (peer-b: its own address, its own count) */
	struct sockaddr_in s = {.sin_family = AF_INET,
				.sin_port = htons(7777),
				.sin_addr.s_addr = inet_addr("198.18.0.1")};
	uint8_t tok[PROTO_TOKEN_LEN];
	char err[256];
	int nsfd = lab_node_nsfd(lab->name, "peer-b"), saved;
	cr_assert_eq(netns_enter(nsfd, &saved), 0);
	int rc = peer_open_session(&s, tok, err, sizeof(err));
	netns_leave(saved);
	close(nsfd);
	cr_assert_eq(rc, 0, "a new session at the descriptor limit: %s", err);
	for (int i = 0; i < 60; i++)
		close(idle[i]);
	lt_down(lab);
}

/* Role B of session TOK says hello from peer-b, reads S's welcome, and its
 * control connection closes: a partner that came and vanished. */
static void hello_and_vanish(struct lt *lab, const char *tok)
{
	struct pmsg m = {.type = PM_HELLO, .role = 'b', .probes = 3};
	char line[PROTO_MAX_LINE + 1];
	cr_assert_eq(proto_unhex(tok, m.session, PROTO_TOKEN_LEN), 0);
	int n = proto_format(&m, line, sizeof(line));
	cr_assert_gt(n, 0);
	int fd = lt_connect(lab, "peer-b", inet_addr("198.18.0.1"), 7777, 0, 2000);
	cr_assert_geq(fd, 0, "connect: %s", strerror(-fd));
	cr_assert_eq(write(fd, line, (size_t)n), n);
	ssize_t r = read(fd, line, sizeof(line) - 1);
	cr_assert_gt(r, 0);
	line[r] = 0;
	cr_assert(strstr(line, "\"welcome\""), "S said: %s", line);
	close(fd);
}

/* Peer A of session TOK; its result line. */
static json_t *lone_peer(struct lt *lab, const char *tok, const char *tag, bool vanish_after,
			 double *ms)
{
	char *argv[] = {"punchlab", "peer", "--server", SERVER, "--session", (char *)tok,
			"--role",   "a",    "--rounds", "1",	NULL};
	int fd;
	pid_t pid = lt_spawn(lab, "peer-a", tag, argv, &fd);
	if (vanish_after) {
		usleep(500000); /* A has said hello and waits for its partner */
		hello_and_vanish(lab, tok);
	}
	double t0 = lt_now_ms();
	json_t *r = lt_read_json(fd);
	*ms = lt_now_ms() - t0;
	cr_assert_eq(lt_wait(pid, 5000), 1);
	return r;
}

/* S knows when a peer's control connection closes before the verdict, and
 * tells the other peer at once (not after its 29.5 s wait): while it waits,
 * and when it only comes afterwards. */
Test(punch, a_partner_gone_is_said_at_once)
{
	struct lt *lab = lab_with_server("gone");
	char tok[2][2 * PROTO_TOKEN_LEN + 1];
	double ms[2];
	json_t *r[2];

	new_session(lab, tok[0]);
	r[0] = lone_peer(lab, tok[0], "gone0", true, &ms[0]);
	new_session(lab, tok[1]);
	hello_and_vanish(lab, tok[1]);
	r[1] = lone_peer(lab, tok[1], "gone1", false, &ms[1]);
	for (int i = 0; i < 2; i++) {
		char *s = json_dumps(r[i], 0);
		cr_log_info("partner gone (%s): %.0f ms: %s", i ? "before" : "while waiting", ms[i],
			    s);
		cr_assert_str_eq(reason(r[i]), "peer-gone", "%s", s);
		cr_assert_lt(ms[i], 1000, "%.0f ms: %s", ms[i], s);
		cr_assert(strstr(json_string_value(json_object_get(r[i], "error")), "peer-gone"),
			  "%s", s);
		free(s);
		json_decref(r[i]);
	}
	lt_down(lab);
}
