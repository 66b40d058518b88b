// SPDX-License-Identifier: MIT
/* Real labs: every shipped topology up and down, reachability, delay, loss, cleanup. */
#include "labtest.h"
#include "lab/netns.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

TestSuite(lab, .init = lt_init, .fini = lt_fini, .timeout = 60);

/* Every node that is not the server opens a TCP connection to it and says who it is. */
static void everyone_reaches_the_server(const char *file, const char *tag)
{
	struct lt *lab = lt_up(file, tag, NULL, NULL);
	int lfd = lt_listen(lab, "server", 7000);
	uint32_t srv = lt_addr(lab, "server");
	for (int i = 0; i < lab->t->nnodes; i++) {
		const char *node = lab->t->nodes[i].name;
		if (lab->t->nodes[i].role == ROLE_SERVER)
			continue;
		int fd = lt_connect(lab, node, srv, 7000, 0, 2000);
		cr_assert_geq(fd, 0, "%s: %s cannot reach the server: %s", file, node,
			      strerror(-fd));
		struct sockaddr_in from;
		int a = lt_accept(lfd, 2000, &from);
		cr_assert_geq(a, 0, "%s: the server did not see %s", file, node);
		cr_assert_eq(write(fd, node, strlen(node)), (ssize_t)strlen(node));
		char buf[64] = {0};
		cr_assert_eq(read(a, buf, sizeof(buf) - 1), (ssize_t)strlen(node));
		cr_assert_str_eq(buf, node);
		close(a);
		close(fd);
	}
	close(lfd);
	lt_down(lab);
}

Test(lab, public)
{
	everyone_reaches_the_server("public.json", "pub");
}
Test(lab, one_nat)
{
	everyone_reaches_the_server("one-nat.json", "one");
}
Test(lab, two_nats)
{
	everyone_reaches_the_server("two-nats.json", "two");
}
Test(lab, same_nat)
{
	everyone_reaches_the_server("same-nat.json", "same");
}
Test(lab, double_nat)
{
	everyone_reaches_the_server("double-nat.json", "dbl");
}

/* Behind two NATs the server sees the outermost NAT's address. */
Test(lab, double_nat_shows_the_cgnat_address)
{
	struct lt *lab = lt_up("double-nat.json", "dbl2", NULL, NULL);
	int lfd = lt_listen(lab, "server", 7001);
	int fd = lt_connect(lab, "peer-a", lt_addr(lab, "server"), 7001, 0, 2000);
	cr_assert_geq(fd, 0);
	struct sockaddr_in from;
	int a = lt_accept(lfd, 2000, &from);
	cr_assert_geq(a, 0);
	cr_assert_eq(from.sin_addr.s_addr, inet_addr("198.18.0.2"));
	close(a);
	close(fd);
	close(lfd);
	lt_down(lab);
}

static double median(double *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v[n / 2];
}

static void delay_peer_a(json_t *root, void *arg)
{
	json_object_set_new(lt_member(root, "internet", "peer-a"), "delay_ms", json_real(20));
	json_object_set_new(lt_member(root, "internet", "peer-b"), "delay_ms", json_integer(0));
}

/* TCP connect() takes one round trip: 20 ms each way on peer-a's link adds 40 ms. */
Test(lab, delay_adds_to_the_round_trip)
{
	struct lt *lab = lt_up("public.json", "dly", delay_peer_a, NULL);
	json_t *st = lab_state(lab->name);
	cr_assert_str_eq(json_string_value(json_object_get(st, "delay_mechanism")), "nfqueue");
	json_decref(st);
	int lfd = lt_listen(lab, "server", 7002);
	uint32_t srv = lt_addr(lab, "server");
	double with[7], without[7];
	for (int i = 0; i < 7; i++) {
		const char *who[2] = {"peer-a", "peer-b"};
		for (int k = 0; k < 2; k++) {
			double t0 = lt_now_ms();
			int fd = lt_connect(lab, who[k], srv, 7002, 0, 2000);
			double dt = lt_now_ms() - t0;
			cr_assert_geq(fd, 0, "%s: %s", who[k], strerror(-fd));
			struct sockaddr_in from;
			close(lt_accept(lfd, 2000, &from));
			close(fd);
			(k ? without : with)[i] = dt;
		}
	}
	double rise = median(with, 7) - median(without, 7);
	cr_log_info("RTT rise with 20 ms one-way delay: %.1f ms", rise);
	cr_assert(rise > 36 && rise < 60, "the RTT rose by %.1f ms, expected about 40", rise);
	close(lfd);
	lt_down(lab);
}

static void lossy_peer_a(json_t *root, void *arg)
{
	json_object_set_new(lt_member(root, "internet", "peer-a"), "loss", json_real(0.3));
}

/* 30 % loss on peer-a's link, applied on the way out: about 70 % of datagrams arrive. */
Test(lab, loss_drops_packets)
{
	struct lt *lab = lt_up("public.json", "loss", lossy_peer_a, NULL);
	int rx = lt_socket(lab, "server", SOCK_DGRAM);
	/* room for all 1000 datagrams: a full buffer would drop them too */
	int big = 8 << 20;
	cr_assert_eq(setsockopt(rx, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)), 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(7003)};
	cr_assert_eq(bind(rx, (struct sockaddr *)&a, sizeof(a)), 0);
	int tx = lt_socket(lab, "peer-a", SOCK_DGRAM);
	a.sin_addr.s_addr = lt_addr(lab, "server");
	for (int i = 0; i < 1000; i++)
		sendto(tx, "x", 1, 0, (struct sockaddr *)&a, sizeof(a));
	usleep(200000);
	int got = 0;
	char c;
	while (recv(rx, &c, 1, MSG_DONTWAIT) == 1)
		got++;
	cr_log_info("1000 sent, %d received through 30%% loss", got);
	cr_assert(got > 620 && got < 780, "%d of 1000 arrived, expected about 700", got);
	close(rx);
	close(tx);
	lt_down(lab);
}

/* Taking a lab down also ends its delay helpers. */
Test(lab, down_ends_helpers)
{
	struct lt *lab = lt_up("public.json", "hlp", delay_peer_a, NULL);
	json_t *st = lab_state(lab->name);
	json_t *h = json_array_get(json_object_get(st, "helpers"), 0);
	cr_assert_not_null(h);
	pid_t pid = (pid_t)json_integer_value(json_object_get(h, "pid"));
	json_decref(st);
	cr_assert_eq(kill(pid, 0), 0, "the helper is not running");
	lt_down(lab);
	for (int i = 0; i < 100 && kill(pid, 0) == 0; i++)
		usleep(10000);
	cr_assert_neq(kill(pid, 0), 0, "helper %d survived topo down", (int)pid);
}

static int run(const char *const argv[])
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", 1);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A `topo up` killed at any point leaves nothing once `punchlab cleanup` ran. */
Test(lab, cleanup_after_a_killed_topo_up)
{
	const char *exe = getenv("PUNCHLAB_EXE");
	cr_assert_not_null(exe, "PUNCHLAB_EXE is not set");
	char file[256], name[32];
	snprintf(file, sizeof(file), "/tmp/punchlab-test-kill-%d.json", (int)getpid());
	json_t *root = json_load_file(SOURCE_ROOT "/topologies/two-nats.json", 0, NULL);
	json_object_set_new(lt_member(root, "lan-a", "peer-a"), "delay_ms", json_real(5));
	json_dump_file(root, file, 0);
	json_decref(root);
	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "t%d-kill%d", (int)getpid() % 100000, i);
		pid_t pid = fork();
		if (pid == 0) {
			int fd = open("/dev/null", 1);
			dup2(fd, 1);
			dup2(fd, 2);
			execl(exe, exe, "topo", "up", file, "--name", name, (char *)NULL);
			_exit(127);
		}
		usleep((useconds_t)(i * 4000));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		/* cleanup removes labs nobody owns; ours is dead now (naming it
		 * keeps the labs of tests running beside us out of it) */
		const char *argv[] = {exe, "cleanup", name, NULL};
		cr_assert_eq(run(argv), 0);
		cr_assert(lt_gone(name), "after a kill at %d ms, lab %s was left behind", i * 4,
			  name);
	}
	unlink(file);
}

/* `topo check` prints FILE:LINE:COL and exits 1; good files exit 0. */
Test(lab, topo_check_cli)
{
	const char *exe = getenv("PUNCHLAB_EXE");
	const char *good[] = {exe, "topo", "check", SOURCE_ROOT "/topologies/two-nats.json", NULL};
	const char *bad[] = {exe, "topo", "check",
			     SOURCE_ROOT "/tests/data/bad-topologies/unknown-nat-profile.json",
			     NULL};
	cr_assert_eq(run(good), 0);
	cr_assert_eq(run(bad), 1);
}

/*
 * Every limit at once (tests/data/max-lab.json): 64 nodes, 64 segments, 64
 * members on one bridge (65 namespaces with the fabric), and a node on all 64
 * segments with delay both ways on each (128 queues in one delay helper).
 * The last segment's queues are numbers 127 and 128; the fabric is the 65th
 * namespace: both must be there, and be gone after topo down.
 */
Test(lab, every_limit_exactly)
{
	struct lt *lab = lt_up("max-lab.json", "max", NULL, NULL);
	cr_assert_eq(lab->t->nnodes, TOPO_NODES_MAX);
	cr_assert_eq(lab->t->nsegs, TOPO_SEGS_MAX);
	cr_assert_eq(lab->t->segs[0].nmembers, TOPO_MEMBERS_MAX);
	json_t *st = lab_state(lab->name);
	cr_assert_eq(json_array_size(json_object_get(st, "namespaces")), LAB_NS_MAX);
	json_decref(st);
	int lfd = lt_listen(lab, "hub", 7010);
	const char *last = "n63";
	uint32_t over[2] = {inet_addr("10.1.63.1"), inet_addr("10.0.0.1")};
	for (int k = 0; k < 2; k++) {
		int fd = lt_connect(lab, last, over[k], 7010, 0, 3000);
		cr_assert_geq(fd, 0, "%s cannot reach the hub %s: %s", last,
			      k ? "over the bridge" : "over its own segment", strerror(-fd));
		struct sockaddr_in from;
		int a = lt_accept(lfd, 2000, &from);
		cr_assert_geq(a, 0);
		close(a);
		close(fd);
	}
	close(lfd);
	lt_down(lab);
}

/* `topo down` refuses a lab that a live process owns (here: this test), as
 * cleanup does; --force takes it anyway. */
Test(lab, topo_down_refuses_an_owned_lab)
{
	const char *exe = getenv("PUNCHLAB_EXE");
	struct lt *lab = lt_up("public.json", "own", NULL, NULL);
	const char *down[] = {exe, "topo", "down", lab->name, NULL};
	cr_assert_eq(run(down), 1, "topo down took a lab its owner still runs");
	json_t *st = lab_state(lab->name);
	cr_assert_not_null(st, "the refused topo down removed the state");
	json_decref(st);
	char ns[64];
	lab_ns_name(lab->name, "server", ns, sizeof(ns));
	cr_assert(netns_exists(ns), "the refused topo down removed %s", ns);
	lt_down(lab);
	lab = lt_up("public.json", "own2", NULL, NULL);
	const char *force[] = {exe, "topo", "down", "--force", lab->name, NULL};
	cr_assert_eq(run(force), 0, "topo down --force");
	lab->up = false;
	cr_assert(lt_gone(lab->name), "topo down --force left %s behind", lab->name);
}

static void ruleset_at(json_t *root, void *arg)
{
	json_t *nat = json_object_get(lt_node(root, "nat-a"), "nat");
	json_object_del(nat, "profile");
	json_object_set_new(nat, "ruleset", json_string(arg));
}

/*
 * A ruleset file is checked when the topology is loaded and again when the
 * lab is built: one that became a directory, a device or a FIFO in between
 * fails lab_up at once (no spinning on /dev/zero, no waiting on a FIFO), and
 * the half-built lab, delay helpers and all, is removed.
 */
Test(lab, ruleset_is_checked_again_at_up)
{
	char dir[64], file[128], topo[128], name[32];
	snprintf(dir, sizeof(dir), "/tmp/punchlab-test-rs-%d", (int)getpid());
	snprintf(file, sizeof(file), "%s/nat.nft", dir);
	snprintf(topo, sizeof(topo), "%s/topo.json", dir);
	cr_assert_eq(mkdir(dir, 0700), 0);
	json_t *root = json_load_file(SOURCE_ROOT "/topologies/one-nat.json", 0, NULL);
	cr_assert_not_null(root);
	ruleset_at(root, file);
	json_object_set_new(lt_member(root, "internet", "server"), "delay_ms", json_real(1));
	cr_assert_eq(json_dump_file(root, topo, 0), 0);
	json_decref(root);
	const char *swaps[] = {"directory", "/dev/zero", "fifo"};
	const char *want[] = {"a directory, not a regular file",
			      "a character device, not a regular file",
			      "a FIFO, not a regular file"};
	for (int i = 0; i < 3; i++) {
		FILE *f = fopen(file, "w");
		cr_assert_not_null(f);
		fputs("table ip nat {\n}\n", f);
		fclose(f);
		struct topology *t;
		struct perr err;
		cr_assert_eq(topo_load(topo, &t, &err), 0, "%s", err.msg);
		/* now the file changes under the loaded topology */
		cr_assert_eq(unlink(file), 0);
		if (i == 0)
			cr_assert_eq(mkdir(file, 0700), 0);
		else if (i == 1)
			cr_assert_eq(symlink("/dev/zero", file), 0);
		else
			cr_assert_eq(mkfifo(file, 0600), 0);
		snprintf(name, sizeof(name), "t%d-rs%d", (int)getpid() % 100000, i);
		double t0 = lt_now_ms();
		int rc = lab_up(t, name, LAB_OWNED, NULL, &err);
		topo_free(t);
		if (rc == 0)
			lab_down(name, true, &err);
		cr_assert_lt(rc, 0, "lab_up took a ruleset that is now a %s", swaps[i]);
		cr_assert(strstr(err.msg, want[i]), "%s: %s", swaps[i], err.msg);
		cr_assert_lt(lt_now_ms() - t0, 10000, "lab_up took %.0f ms", lt_now_ms() - t0);
		cr_assert(lt_gone(name), "the failed lab_up left %s behind", name);
		if (i == 0)
			rmdir(file);
		else
			unlink(file);
	}
	unlink(topo);
	rmdir(dir);
}
