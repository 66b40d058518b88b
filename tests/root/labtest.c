// SPDX-License-Identifier: MIT
#include "labtest.h"
#include "lab/netns.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <sched.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LT_MAX 8
/* labs live here, not on a test's stack: .fini runs after the test returned */
static struct lt pool[LT_MAX];

void lt_init(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root (network namespaces)");
	/* helpers are started from the punchlab binary, not from this test */
	const char *exe = getenv("PUNCHLAB_EXE");
	lab_set_exe(exe ? exe : PUNCHLAB_EXE_DEFAULT);
	setenv("PUNCHLAB_EXE", exe ? exe : PUNCHLAB_EXE_DEFAULT, 0);
}

/* The stderr files of lt_spawn()'s processes in lab NAME, unless
 * PUNCHLAB_KEEP_TEST_LOGS is set (to read them after a failure). */
static void remove_logs(const char *name)
{
	char pat[256];
	glob_t g;

	if (getenv("PUNCHLAB_KEEP_TEST_LOGS"))
		return;
	snprintf(pat, sizeof(pat), "/tmp/punchlab-test-%.*s-*.err", LAB_NAME_MAX, name);
	if (glob(pat, 0, NULL, &g) == 0)
		for (size_t k = 0; k < g.gl_pathc; k++)
			unlink(g.gl_pathv[k]);
	globfree(&g);
}

void lt_fini(void)
{
	for (int i = 0; i < LT_MAX; i++) {
		struct lt *l = &pool[i];
		struct perr err;
		if (l->up)
			lab_down(l->name, false, &err);
		if (l->name[0])
			remove_logs(l->name);
		if (l->file[0])
			unlink(l->file);
		topo_free(l->t);
		memset(l, 0, sizeof(*l));
	}
}

json_t *lt_node(json_t *root, const char *name)
{
	size_t i;
	json_t *n;
	json_array_foreach(
	    json_object_get(root, "nodes"), i,
	    n) if (!strcmp(json_string_value(json_object_get(n, "name")), name)) return n;
	cr_assert_fail("no node %s", name);
	return NULL;
}

json_t *lt_member(json_t *root, const char *segment, const char *node)
{
	size_t i, k;
	json_t *s, *m;
	json_array_foreach(json_object_get(root, "segments"), i, s)
	{
		if (strcmp(json_string_value(json_object_get(s, "name")), segment))
			continue;
		json_array_foreach(
		    json_object_get(s, "members"), k,
		    m) if (!strcmp(json_string_value(json_object_get(m, "node")), node)) return m;
	}
	cr_assert_fail("no member %s on %s", node, segment);
	return NULL;
}

struct lt *lt_up(const char *file, const char *tag, lt_patch_fn patch, void *arg)
{
	char src[512];
	json_error_t jerr;
	struct perr err;
	struct lt *lab = NULL;

	for (int i = 0; i < LT_MAX && !lab; i++)
		if (!pool[i].name[0])
			lab = &pool[i];
	cr_assert_not_null(lab, "more than %d labs in one test", LT_MAX);
	snprintf(lab->name, sizeof(lab->name), "t%d-%s", (int)getpid() % 100000, tag);
	snprintf(src, sizeof(src), SOURCE_ROOT "/topologies/%s", file);
	if (access(src, R_OK) != 0)
		snprintf(src, sizeof(src), SOURCE_ROOT "/tests/data/%s", file);
	json_t *root = json_load_file(src, 0, &jerr);
	cr_assert_not_null(root, "%s: %s", src, jerr.text);
	if (patch)
		patch(root, arg);
	snprintf(lab->file, sizeof(lab->file), "/tmp/punchlab-test-%s.json", lab->name);
	cr_assert_eq(json_dump_file(root, lab->file, JSON_INDENT(1)), 0);
	json_decref(root);
	cr_assert_eq(topo_load(lab->file, &lab->t, &err), 0, "%s", err.msg);
	/* marked up before building: lab_up removes a half-built lab itself,
	 * and lab_down of a missing lab is harmless */
	lab->up = true;
	int rc = lab_up(lab->t, lab->name, LAB_OWNED, NULL, &err);
	if (rc < 0)
		lab->up = false;
	cr_assert_eq(rc, 0, "lab_up: %s", err.msg);
	return lab;
}

bool lt_gone(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", lab_state_dir(), name);
	if (access(path, F_OK) == 0)
		return false;
	/* any /run/netns/pl-NAME-* */
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "pl-%s-", name);
	FILE *p = popen("ls /run/netns 2>/dev/null", "r");
	char line[256];
	bool left = false;
	while (p && fgets(line, sizeof(line), p))
		if (!strncmp(line, prefix, strlen(prefix)))
			left = true;
	if (p)
		pclose(p);
	return !left;
}

void lt_down(struct lt *lab)
{
	struct perr err;

	cr_assert(lab->up);
	cr_assert_eq(lab_down(lab->name, false, &err), 0, "%s", err.msg);
	lab->up = false;
	cr_assert(lt_gone(lab->name), "lab %s left something behind", lab->name);
}

int lt_socket(struct lt *lab, const char *node, int type)
{
	int nsfd = lab_node_nsfd(lab->name, node);
	cr_assert_geq(nsfd, 0, "no namespace for %s", node);
	int saved;
	cr_assert_eq(netns_enter(nsfd, &saved), 0);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	netns_leave(saved);
	close(nsfd);
	cr_assert_geq(fd, 0);
	return fd;
}

uint32_t lt_addr(struct lt *lab, const char *node)
{
	int n = topo_node_by_name(lab->t, node);
	cr_assert_geq(n, 0);
	return topo_primary_addr(lab->t, n);
}

int lt_listen(struct lt *lab, const char *node, uint16_t port)
{
	int fd = lt_socket(lab, node, SOCK_STREAM), one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0, "bind: %s", strerror(errno));
	cr_assert_eq(listen(fd, 64), 0);
	return fd;
}

int lt_accept(int lfd, int timeout_ms, struct sockaddr_in *from)
{
	struct pollfd p = {lfd, POLLIN, 0};
	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	socklen_t len = sizeof(*from);
	return accept4(lfd, (struct sockaddr *)from, &len, SOCK_CLOEXEC);
}

int lt_connect(struct lt *lab, const char *node, uint32_t dst, uint16_t port, uint16_t bind_port,
	       int timeout_ms)
{
	int fd = lt_socket(lab, node, SOCK_STREAM), one = 1;
	if (bind_port) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		struct sockaddr_in b = {.sin_family = AF_INET, .sin_port = htons(bind_port)};
		if (bind(fd, (struct sockaddr *)&b, sizeof(b)) < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	struct sockaddr_in a = {
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = dst};
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		return -e;
	}
	struct pollfd p = {fd, POLLOUT, 0};
	if (poll(&p, 1, timeout_ms) != 1) {
		close(fd);
		return -ETIMEDOUT;
	}
	int err = 0;
	socklen_t len = sizeof(err);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		close(fd);
		return -err;
	}
	fcntl(fd, F_SETFL, 0);
	return fd;
}

double lt_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#include <signal.h>
#include <sys/wait.h>

pid_t lt_spawn(struct lt *lab, const char *node, const char *tag, char *const argv[], int *out_fd)
{
	int pfd[2] = {-1, -1};
	char errpath[256];
	const char *exe = getenv("PUNCHLAB_EXE");
	int nsfd = lab_node_nsfd(lab->name, node);

	cr_assert_geq(nsfd, 0);
	cr_assert_not_null(exe);
	if (out_fd)
		cr_assert_eq(pipe(pfd), 0);
	snprintf(errpath, sizeof(errpath), "/tmp/punchlab-test-%s-%s-%s.err", lab->name, node, tag);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (setns(nsfd, CLONE_NEWNET) < 0)
			_exit(126);
		int e = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (e >= 0)
			dup2(e, 2);
		if (out_fd) {
			dup2(pfd[1], 1);
			close(pfd[0]);
		} else if (e >= 0) {
			/* never the test's own stdout: a reader of it would wait for us */
			dup2(e, 1);
		}
		execv(exe, argv);
		_exit(127);
	}
	close(nsfd);
	if (out_fd) {
		close(pfd[1]);
		*out_fd = pfd[0];
	}
	return pid;
}

int lt_wait(pid_t pid, int timeout_ms)
{
	int st;
	for (int waited = 0; waited < timeout_ms; waited += 10) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

json_t *lt_read_json(int fd)
{
	static char buf[65536];
	size_t n = 0;
	ssize_t r;
	while (n < sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	buf[n] = 0;
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	char *last = strrchr(buf, '\n');
	json_error_t e;
	json_t *j = json_loads(last ? last + 1 : buf, 0, &e);
	cr_assert_not_null(j, "not a JSON line: \"%s\" (%s)", buf, e.text);
	return j;
}
