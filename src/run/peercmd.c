// SPDX-License-Identifier: MIT
#include "peercmd.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The child: only async-signal-safe calls from fork() to execve(). */
static void child(int nsfd, int out, int err, const char *exe, char *const argv[],
		  char *const envp[])
{
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (setpgid(0, 0) < 0 || setns(nsfd, CLONE_NEWNET) < 0 || devnull < 0 ||
	    dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	/* the runner's sockets and pcap handles are not all close-on-exec */
	close_range(3, ~0U, 0);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	execve(exe, argv, envp);
	_exit(127);
}

int peercmd_start(struct peercmd *r, int nsfd, const char *exe, json_t *argv, char *const envp[])
{
	int po[2] = {-1, -1}, pe[2] = {-1, -1};
	size_t n = json_array_size(argv);
	char **av = calloc(n + 1, sizeof(*av));

	memset(r, 0, sizeof(*r));
	r->fd[0] = r->fd[1] = -1;
	for (size_t i = 0; av && i < n; i++)
		av[i] = (char *)json_string_value(json_array_get(argv, i));
	if (!av || pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		snprintf(r->error, sizeof(r->error), "cannot make pipes: %s", strerror(errno));
		goto fail;
	}
	r->t0 = mono_ms();
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(r->error, sizeof(r->error), "cannot fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0)
		child(nsfd, po[1], pe[1], exe, av, envp);
	/* both set the group, so that a kill right after fork() finds it */
	setpgid(pid, pid);
	r->pid = pid;
	close(po[1]);
	close(pe[1]);
	r->fd[0] = po[0];
	r->fd[1] = pe[0];
	fcntl(po[0], F_SETFL, O_NONBLOCK);
	fcntl(pe[0], F_SETFL, O_NONBLOCK);
	free(av);
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	free(av);
	return -1;
}

/* Reads what fd K of R has; keeps PEERCMD_OUT_MAX bytes, counts the rest. */
static void drain(struct peercmd *r, int k)
{
	char buf[4096];
	for (;;) {
		ssize_t got = read(r->fd[k], buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno == EAGAIN)
			return;
		if (got <= 0) {
			close(r->fd[k]);
			r->fd[k] = -1;
			return;
		}
		size_t room = PEERCMD_OUT_MAX - r->len[k];
		size_t take = (size_t)got < room ? (size_t)got : room;
		memcpy(r->out[k] + r->len[k], buf, take);
		r->len[k] += take;
		r->truncated[k] |= take < (size_t)got;
	}
}

/* Has R's leader exited? Then its group goes too (a child it left behind
 * would hold the pipes), and it is reaped: the zombie kept the group's id
 * from being reused until the group was killed. */
static void reap(struct peercmd *r)
{
	siginfo_t si = {0};
	if (!r->pid || r->exited ||
	    waitid(P_PID, (id_t)r->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
	    si.si_pid != r->pid)
		return;
	r->ms = mono_ms() - r->t0;
	kill(-r->pid, SIGKILL);
	waitpid(r->pid, &r->status, 0);
	r->exited = true;
}

static bool all_done(const struct peercmd *r, int n)
{
	for (int i = 0; i < n; i++)
		if (r[i].pid && (!r[i].exited || r[i].fd[0] >= 0 || r[i].fd[1] >= 0))
			return false;
	return true;
}

static void signal_all(struct peercmd *r, int n, int sig)
{
	for (int i = 0; i < n; i++)
		if (r[i].pid && !r[i].exited) {
			kill(-r[i].pid, sig);
			r[i].killed = true;
		}
}

void peercmd_wait(struct peercmd *r, int n, double deadline)
{
	bool termed = false;
	for (;;) {
		for (int i = 0; i < n; i++)
			reap(&r[i]);
		if (all_done(r, n))
			return;
		double now = mono_ms();
		if (!termed && now >= deadline) {
			signal_all(r, n, SIGTERM);
			termed = true;
		} else if (termed && now >= deadline + PEERCMD_GRACE_MS) {
			signal_all(r, n, SIGKILL);
			/* what is still open now belongs to nobody alive */
			for (int i = 0; i < n; i++) {
				if (r[i].pid && !r[i].exited) {
					waitpid(r[i].pid, &r[i].status, 0);
					r[i].ms = mono_ms() - r[i].t0;
					r[i].exited = true;
				}
				for (int k = 0; k < 2; k++)
					if (r[i].fd[k] >= 0) {
						drain(&r[i], k);
						if (r[i].fd[k] >= 0)
							close(r[i].fd[k]);
						r[i].fd[k] = -1;
					}
			}
			return;
		}
		struct pollfd pf[2 * 8];
		int np = 0;
		for (int i = 0; i < n && i < 8; i++)
			for (int k = 0; k < 2; k++)
				pf[np++] = (struct pollfd){r[i].fd[k], POLLIN, 0};
		/* a short timeout: a leader's exit is noticed by reap(), not by poll */
		poll(pf, (nfds_t)np, 20);
		np = 0;
		for (int i = 0; i < n && i < 8; i++)
			for (int k = 0; k < 2; k++, np++)
				if (r[i].fd[k] >= 0 && pf[np].revents)
					drain(&r[i], k);
	}
}

bool peercmd_ok(const struct peercmd *r)
{
	return r->pid && r->exited && !r->killed && WIFEXITED(r->status) &&
	       WEXITSTATUS(r->status) == 0;
}

void peercmd_json(const struct peercmd *r, json_t *obj)
{
	static const char *const names[2] = {"stdout", "stderr"};
	bool sig = r->exited && WIFSIGNALED(r->status);
	json_object_set_new(obj, "exit",
			    r->exited && WIFEXITED(r->status) ? json_integer(WEXITSTATUS(r->status))
							      : json_null());
	json_object_set_new(obj, "signal",
			    sig ? json_string(sigabbrev_np(WTERMSIG(r->status)) ?: "?")
				: json_null());
	json_object_set_new(obj, "killed", json_boolean(r->killed));
	json_object_set_new(obj, "ms",
			    json_real(r->ms > 0 ? (double)(long)(r->ms * 1000) / 1000 : 0));
	for (int k = 0; k < 2; k++) {
		char key[24];
		/* a program's bytes, kept as valid UTF-8: other bytes become '?' */
		char txt[PEERCMD_OUT_MAX + 1];
		for (size_t i = 0; i < r->len[k]; i++) {
			unsigned char ch = (unsigned char)r->out[k][i];
			txt[i] =
			    ch >= 0x80 || (ch < 0x20 && ch != '\n' && ch != '\t') ? '?' : (char)ch;
		}
		json_object_set_new(obj, names[k], json_stringn(txt, r->len[k]));
		snprintf(key, sizeof(key), "%s_truncated", names[k]);
		json_object_set_new(obj, key, json_boolean(r->truncated[k]));
	}
	if (r->error[0])
		json_object_set_new(obj, "error", json_string(r->error));
}

/* "ADDR:PORT" -> is ADDR SERVER? */
static bool is_server(const char *ep, const char *server)
{
	size_t n = strlen(server);
	return ep && !strncmp(ep, server, n) && ep[n] == ':';
}

bool peercmd_capture_connected(json_t *capture, const char *server)
{
	size_t i;
	json_t *e;
	if (json_is_true(json_object_get(capture, "syns_crossed")))
		return true;
	json_array_foreach(json_object_get(capture, "timeline"), i, e)
	{
		const char *fl = json_string_value(json_object_get(e, "flags"));
		const char *src = json_string_value(json_object_get(e, "src"));
		const char *dst = json_string_value(json_object_get(e, "dst"));
		if (fl && !strcmp(fl, "SA") && src && dst && !is_server(src, server) &&
		    !is_server(dst, server))
			return true;
	}
	return false;
}

char **peercmd_env(char *const env[], const char *const set[], int n)
{
	size_t have = 0, k = 0;
	while (env && env[have])
		have++;
	char **out = calloc(have + (size_t)n + 1, sizeof(*out));
	for (size_t i = 0; out && i < have; i++) {
		bool overridden = false;
		for (int j = 0; j < n && !overridden; j++) {
			size_t l = strcspn(set[j], "=");
			overridden = !strncmp(env[i], set[j], l) && env[i][l] == '=';
		}
		if (!overridden && !(out[k++] = strdup(env[i]))) {
			peercmd_env_free(out);
			return NULL;
		}
	}
	for (int j = 0; out && j < n; j++)
		if (!(out[k++] = strdup(set[j]))) {
			peercmd_env_free(out);
			return NULL;
		}
	return out;
}

void peercmd_env_free(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}
