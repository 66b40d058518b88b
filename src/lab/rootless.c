// SPDX-License-Identifier: MIT
#include "rootless.h"
#include "lab.h"
#include "util/proc.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char base_dir[PATH_MAX - 32];
static char netns_dir[PATH_MAX] = "/run/netns";
static char state_dir[PATH_MAX] = "/run/punchlab";
static bool joined;
static int users_fd = -1; /* BASE/users.lock, shared while we are inside */
static pid_t keeper_pid;

const char *lab_netns_dir(void)
{
	return netns_dir;
}

const char *lab_state_dir(void)
{
	return state_dir;
}

bool rootless_wanted(void)
{
	const char *v = getenv("PUNCHLAB_ROOTLESS");

	return geteuid() != 0 || (v && !strcmp(v, "1"));
}

bool rootless_on(void)
{
	return joined;
}

/* ---- BASE ---- */

/* PATH is a directory of ours that nobody else may write. */
static bool dir_is_ours(const char *path, bool private)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
	       (st.st_mode & (private ? 077u : 022u)) == 0;
}

/* Creates PATH (0700) if missing; refuses one another user could tamper with. */
static int own_dir(const char *path, struct perr *err)
{
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		int rc = -errno;
		perr_set(err, path, 0, 0, "cannot create the rootless runtime directory: %s",
			 strerror(-rc));
		return rc;
	}
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		perr_set(err, path, 0, 0, "not a directory; set PUNCHLAB_RUNTIME_DIR to one");
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077)) {
		perr_set(err, path, 0, 0,
			 "owned by uid %u with mode %04o: refusing a runtime directory other "
			 "users could change (it must be yours, mode 0700); set "
			 "PUNCHLAB_RUNTIME_DIR to a directory of your own",
			 (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* The labs' handles and state under BASE_DIR. */
static void under_base(void)
{
	snprintf(netns_dir, sizeof(netns_dir), "%s/netns", base_dir);
	snprintf(state_dir, sizeof(state_dir), "%s/labs", base_dir);
}

/* $PUNCHLAB_RUNTIME_DIR, $XDG_RUNTIME_DIR/punchlab or /tmp/punchlab-UID. */
static int pick_base(struct perr *err)
{
	const char *env = getenv("PUNCHLAB_RUNTIME_DIR");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (env && *env) {
		if (env[0] != '/') {
			perr_set(err, "PUNCHLAB_RUNTIME_DIR", 0, 0, "must be an absolute path");
			return -EINVAL;
		}
		n = snprintf(base_dir, sizeof(base_dir), "%s", env);
	} else if (xdg && xdg[0] == '/' && dir_is_ours(xdg, false)) {
		n = snprintf(base_dir, sizeof(base_dir), "%s/punchlab", xdg);
	} else {
		n = snprintf(base_dir, sizeof(base_dir), "/tmp/punchlab-%u", (unsigned)geteuid());
	}
	if (n < 0 || (size_t)n >= sizeof(base_dir)) {
		perr_set(err, "PUNCHLAB_RUNTIME_DIR", 0, 0, "path too long");
		return -ENAMETOOLONG;
	}
	under_base();
	int rc = own_dir(base_dir, err);
	if (rc < 0)
		return rc;
	const char *const sub[] = {netns_dir, state_dir};
	for (size_t i = 0; i < 2; i++)
		if (mkdir(sub[i], 0700) < 0 && errno != EEXIST) {
			rc = -errno;
			perr_set(err, sub[i], 0, 0, "cannot create: %s", strerror(-rc));
			return rc;
		}
	return 0;
}

static int open_lock(const char *name, int how)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", base_dir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, how) < 0) {
		if (errno != EINTR) {
			int rc = -errno;
			close(fd);
			return rc;
		}
	}
	return fd;
}

/* ---- the keeper ---- */

/* PID's argv is "punchlab keeper BASE"; its BASE into BUF (if given). */
static bool is_keeper(pid_t pid, char *buf, size_t len)
{
	char path[64], cmd[PATH_MAX + 64];

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	if (n <= 0)
		return false;
	cmd[n] = 0;
	size_t a = strlen(cmd) + 1;
	if (strcmp(cmd, "punchlab") || (size_t)n <= a || strcmp(cmd + a, "keeper"))
		return false;
	size_t b = a + strlen(cmd + a) + 1;
	if ((size_t)n <= b)
		return false;
	if (buf)
		snprintf(buf, len, "%s", cmd + b);
	return true;
}

/* The keeper recorded in BASE/keeper.pid, if it still runs: its pid, or 0. */
static pid_t keeper_running(void)
{
	char path[PATH_MAX], buf[64], b[PATH_MAX];
	int pid = 0;
	unsigned long long start = 0;

	snprintf(path, sizeof(path), "%s/keeper.pid", base_dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f) || sscanf(buf, "%d %llu", &pid, &start) != 2)
		pid = 0;
	fclose(f);
	if (pid <= 0 || !proc_alive(pid, start) || !is_keeper(pid, b, sizeof(b)) ||
	    strcmp(b, base_dir))
		return 0;
	return pid;
}

static int record_keeper(pid_t pid)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];

	snprintf(path, sizeof(path), "%s/keeper.pid", base_dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "%d %llu\n", (int)pid, proc_start(pid));
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		int rc = -errno;
		unlink(tmp);
		return rc;
	}
	return 0;
}

/* What the keeper's child reports when it cannot become the keeper. */
struct keeper_fail {
	int err;
	char step[24];
};

static void child_fail(int fd, const char *step)
{
	struct keeper_fail m = {.err = errno};

	snprintf(m.step, sizeof(m.step), "%s", step);
	if (write(fd, &m, sizeof(m)) < 0)
		_exit(126);
	_exit(127);
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	ssize_t n = write(fd, s, strlen(s));
	int e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* New user, mount and network namespaces for the calling process, uid and
 * gid 0 inside mapped to UID and GID. NULL, or the step that failed (errno
 * says why). The network namespace is an empty one of the new user
 * namespace's: a thread that entered a lab's must be able to go back where
 * it came from, and the host's belongs to a user namespace where we have no
 * rights. */
static const char *unshare_mapped(uid_t uid, gid_t gid)
{
	char map[64];

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET) < 0)
		return "unshare";
	if (write_file("/proc/self/setgroups", "deny") < 0)
		return "setgroups";
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
	if (write_file("/proc/self/uid_map", map) < 0)
		return "uid_map";
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
	if (write_file("/proc/self/gid_map", map) < 0)
		return "gid_map";
	return NULL;
}

/* In the fork()ed child: unshare_mapped(), then exec `punchlab keeper BASE`.
 * Never returns. */
static void keeper_child(int fd, uid_t uid, gid_t gid)
{
	const char *step;

	/* nothing of the parent's: no lock, no results file held for ever */
	if (fd > 3)
		close_range(3, (unsigned)fd - 1, 0);
	close_range((unsigned)fd + 1, ~0u, 0);
	setsid(); /* not in the terminal's process group: ^C must not end the labs */
	if ((step = unshare_mapped(uid, gid)))
		child_fail(fd, step);
	execl("/proc/self/exe", "punchlab", "keeper", base_dir, (char *)NULL);
	child_fail(fd, "exec");
}

/* A sysctl's value for the refusal message, or "absent". */
static const char *sysctl_value(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	snprintf(buf, len, "absent");
	if (f) {
		if (fgets(buf, (int)len, f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
	return buf;
}

static int keeper_refused(const struct keeper_fail *m, struct perr *err)
{
	char a[32], b[32], c[32];

	if (!strcmp(m->step, "unshare") &&
	    (m->err == EPERM || m->err == ENOSPC || m->err == EUSERS || m->err == EACCES))
		perr_set(err, "rootless", 0, 0,
			 "the kernel refuses this user a user namespace (unshare: %s), which "
			 "punchlab needs without root; check the sysctl user.max_user_namespaces "
			 "(here %s; 0 forbids them), kernel.unprivileged_userns_clone (Debian "
			 "kernels; here %s; must be 1) and "
			 "kernel.apparmor_restrict_unprivileged_userns (Ubuntu; here %s; must be "
			 "0), or run as root",
			 strerror(m->err),
			 sysctl_value("/proc/sys/user/max_user_namespaces", a, sizeof(a)),
			 sysctl_value("/proc/sys/kernel/unprivileged_userns_clone", b, sizeof(b)),
			 sysctl_value("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", c,
				      sizeof(c)));
	else
		perr_set(err, "rootless", 0, 0,
			 "cannot set up the rootless namespaces: %s failed: %s", m->step,
			 strerror(m->err));
	return -m->err;
}

static int keeper_start(struct perr *err)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0) {
		perr_set(err, "rootless", 0, 0, "pipe: %s", strerror(errno));
		return -errno;
	}
	uid_t uid = geteuid();
	gid_t gid = getegid();
	pid_t pid = fork();
	if (pid < 0) {
		int rc = -errno;
		close(p[0]);
		close(p[1]);
		perr_set(err, "rootless", 0, 0, "fork: %s", strerror(-rc));
		return rc;
	}
	if (pid == 0)
		keeper_child(p[1], uid, gid);
	close(p[1]);
	struct keeper_fail m;
	ssize_t n;
	while ((n = read(p[0], &m, sizeof(m))) < 0 && errno == EINTR)
		;
	close(p[0]);
	if (n == (ssize_t)sizeof(m)) {
		waitpid(pid, NULL, 0);
		return keeper_refused(&m, err);
	}
	/* end of file: the exec closed the pipe; it runs as the keeper */
	int rc = record_keeper(pid);
	if (rc < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		perr_set(err, base_dir, 0, 0, "cannot record the keeper: %s", strerror(-rc));
		return rc;
	}
	return pid;
}

/* Joins PID's user, mount and network namespaces (unshare_mapped's), keeping
 * the working directory. */
static int join(pid_t pid, struct perr *err)
{
	static const struct {
		const char *ns;
		int type;
	} nss[] = {{"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS}, {"net", CLONE_NEWNET}};
	int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	for (size_t i = 0; i < 3 && rc == 0; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, nss[i].ns);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, nss[i].type) < 0) {
			rc = -errno;
			perr_set(err, path, 0, 0, "cannot join the keeper's %s namespace: %s",
				 nss[i].ns, strerror(errno));
		}
		if (fd >= 0)
			close(fd);
	}
	/* setns(CLONE_NEWNS) moved us to its root */
	if (cwd >= 0) {
		if (rc == 0 && fchdir(cwd) < 0)
			rc = -errno;
		close(cwd);
	}
	return rc;
}

/* The lock that the last one out takes (rootless_release), shared while in. */
static int hold_users_lock(struct perr *err)
{
	if ((users_fd = open_lock("users.lock", LOCK_SH)) < 0) {
		perr_set(err, base_dir, 0, 0, "cannot lock users.lock: %s", strerror(-users_fd));
		return users_fd;
	}
	return 0;
}

/* Namespaces of the process's own, for its lifetime: no keeper. */
static int enter_private(struct perr *err)
{
	const char *step = unshare_mapped(geteuid(), getegid());

	if (step) {
		struct keeper_fail m = {.err = errno};
		snprintf(m.step, sizeof(m.step), "%s", step);
		return keeper_refused(&m, err);
	}
	joined = true;
	return 0;
}

int rootless_enter(enum rootless_mode mode, struct perr *err)
{
	int rc, lock;

	if (joined || !rootless_wanted())
		return 0;
	if ((rc = pick_base(err)) < 0)
		return rc;
	if (mode == ROOTLESS_PRIVATE)
		return enter_private(err);
	if ((lock = open_lock("create.lock", LOCK_EX)) < 0) {
		perr_set(err, base_dir, 0, 0, "cannot lock create.lock: %s", strerror(-lock));
		return lock;
	}
	pid_t pid = keeper_running();
	bool fresh = !pid;
	if (fresh && (pid = keeper_start(err)) < 0) {
		close(lock);
		return pid;
	}
	rc = join(pid, err);
	if (rc == 0)
		rc = hold_users_lock(err);
	close(lock);
	if (rc < 0)
		return rc;
	joined = true;
	keeper_pid = pid;
	/* labs recorded under BASE whose namespaces ended with an earlier keeper */
	int stale = fresh ? lab_cleanup(false, 0, NULL, NULL) : 0;
	if (stale > 0)
		fprintf(stderr,
			"punchlab: removed what was left of %d lab(s) whose namespaces had "
			"ended\n",
			stale);
	return 0;
}

static bool dir_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	bool empty = true;

	if (!d)
		return true;
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	return empty;
}

void rootless_release(void)
{
	if (!joined || users_fd < 0) /* nothing to release in private namespaces */
		return;
	int lock = open_lock("create.lock", LOCK_EX);
	/* nobody else inside (their shared locks) and nothing left to hold */
	if (lock >= 0 && flock(users_fd, LOCK_EX | LOCK_NB) == 0 && dir_empty(state_dir) &&
	    dir_empty(netns_dir) && keeper_running() == keeper_pid) {
		char path[PATH_MAX];
		kill(keeper_pid, SIGTERM);
		waitpid(keeper_pid, NULL, WNOHANG); /* our child if we started it */
		snprintf(path, sizeof(path), "%s/keeper.pid", base_dir);
		unlink(path);
	}
	close(users_fd);
	users_fd = -1;
	if (lock >= 0)
		close(lock);
	joined = false;
}

int rootless_keeper(const char *base)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	(void)base; /* in argv, for ps and for root's cleanup */
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close(null);
	}
	if (chdir("/") < 0)
		return 1;
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	for (;;)
		pause(); /* SIGTERM ends it */
}

/* ---- root's view of every user's keeper ---- */

int rootless_each_keeper(int (*fn)(pid_t pid, uid_t uid, gid_t gid, const char *base, void *ctx),
			 void *ctx)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end, path[64], base[PATH_MAX];
		struct stat st;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0 || pid == getpid() || !is_keeper((pid_t)pid, base, sizeof(base)))
			continue;
		snprintf(path, sizeof(path), "/proc/%ld", pid);
		if (stat(path, &st) < 0)
			continue;
		n++;
		if (fn((pid_t)pid, st.st_uid, st.st_gid, base, ctx))
			break;
	}
	closedir(d);
	return n;
}

int rootless_join_user(pid_t pid, uid_t uid, gid_t gid, const char *base, struct perr *err)
{
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) {
		perr_set(err, "rootless", 0, 0, "cannot become uid %u: %s", (unsigned)uid,
			 strerror(errno));
		return -errno;
	}
	if ((size_t)snprintf(base_dir, sizeof(base_dir), "%s", base) >= sizeof(base_dir))
		return -ENAMETOOLONG;
	under_base();
	int rc = join(pid, err);
	if (rc == 0 && (rc = hold_users_lock(err)) == 0) {
		joined = true;
		keeper_pid = pid;
	}
	return rc;
}
