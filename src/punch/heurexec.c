// SPDX-License-Identifier: MIT
#include "heurexec.h"
#include "util/jsonesc.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* how long a program whose output closed may take to exit */
#define HEURX_REAP_MS 20

struct heurx {
	char spec[1024];
	char words[1024];
	char *argv[HEURX_MAX_ARGS + 1];
	int timeout_ms;
	pid_t pid;    /* 0: not running */
	int in, out;  /* our ends: its stdin, its stdout */
	long next_id; /* of the next request */
	int restarts;
	bool ready;	    /* it answered its first request (round 0) */
	long first_id;	    /* that request's id */
	int64_t started_ms; /* when it was last started */
	bool skipping;	    /* dropping an overlong answer up to its newline */
	char gave_up[240];
	size_t len;
	char buf[HEURX_MAX_LINE];
};

bool heurx_is_spec(const char *name)
{
	return name && !strncmp(name, HEURX_PREFIX, strlen(HEURX_PREFIX));
}

int heurx_parse_spec(const char *spec, char *buf, size_t len, char *argv[HEURX_MAX_ARGS + 1],
		     char *err, size_t errlen)
{
	int n = 0;

	if (!heurx_is_spec(spec)) {
		snprintf(err, errlen, "not \"%sPROGRAM [ARGS...]\"", HEURX_PREFIX);
		return -1;
	}
	spec += strlen(HEURX_PREFIX);
	if (strlen(spec) >= len) {
		snprintf(err, errlen, "longer than %zu bytes", len - 1);
		return -1;
	}
	memcpy(buf, spec, strlen(spec) + 1);
	for (char *p = strtok(buf, " \t"); p; p = strtok(NULL, " \t")) {
		if (n == HEURX_MAX_ARGS) {
			snprintf(err, errlen, "more than %d words", HEURX_MAX_ARGS);
			return -1;
		}
		argv[n++] = p;
	}
	argv[n] = NULL;
	if (!n) {
		snprintf(err, errlen, "no program after \"%s\" (\"%sPROGRAM [ARGS...]\")",
			 HEURX_PREFIX, HEURX_PREFIX);
		return -1;
	}
	return n;
}

void heurx_json_text(const char *s, size_t len, char *out, size_t outlen)
{
	json_escape(out, outlen, s, len, true);
}

/* The "candidates" of an answer into OUT: 1 to K distinct ports. */
static int answer_candidates(json_t *a, int k, uint16_t *out, char *err, size_t errlen)
{
	size_t i;
	json_t *p;

	if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > (size_t)k) {
		snprintf(err, errlen, "\"candidates\" must be an array of 1 to %d ports", k);
		return -1;
	}
	json_array_foreach(a, i, p)
	{
		if (!json_is_integer(p) || json_integer_value(p) < 1 ||
		    json_integer_value(p) > 65535) {
			snprintf(err, errlen, "candidate %zu is not a port (1 to 65535)", i + 1);
			return -1;
		}
		out[i] = (uint16_t)json_integer_value(p);
		for (size_t j = 0; j < i; j++)
			if (out[j] == out[i]) {
				snprintf(err, errlen, "candidate %u twice", out[i]);
				return -1;
			}
	}
	return (int)json_array_size(a);
}

int heurx_parse_answer(const char *line, size_t len, long id, int k, uint16_t *out, char *err,
		       size_t errlen)
{
	int rc = -1;
	json_t *o = json_line_load(line, len, 0, err, errlen);
	if (!o)
		return -1;
	json_t *jid = json_object_get(o, "id");
	if (!json_is_object(o))
		snprintf(err, errlen, "not a JSON object");
	else if (!json_is_integer(jid))
		snprintf(err, errlen, "no \"id\" (a whole number: the request's)");
	else if (json_integer_value(jid) < id)
		rc = 0; /* late: the answer to a request that failed already */
	else if (json_integer_value(jid) > id)
		snprintf(err, errlen, "\"id\" %lld: the request is %ld",
			 (long long)json_integer_value(jid), id);
	else
		rc = answer_candidates(json_object_get(o, "candidates"), k, out, err, errlen);
	json_decref(o);
	return rc;
}

int heurx_format_request(long id, int round, int k, const struct heur_obs *obs, int n, char *buf,
			 size_t len)
{
	size_t o = 0;
	int w;

#define PUT(...)                                                                                   \
	do {                                                                                       \
		w = snprintf(buf + o, len - o, __VA_ARGS__);                                       \
		if (w < 0 || (size_t)w >= len - o)                                                 \
			return -1;                                                                 \
		o += (size_t)w;                                                                    \
	} while (0)
	PUT("{\"id\":%ld,\"round\":%d,\"k\":%d,\"ports\":[", id, round, k);
	for (int i = 0; i < n; i++)
		PUT("%s%u", i ? "," : "", obs[i].port);
	PUT("],\"t\":[");
	for (int i = 0; i < n; i++)
		PUT("%s%.3f", i ? "," : "", obs[i].t);
	PUT("]}\n");
#undef PUT
	return (int)o;
}

int64_t heurx_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *heurx_name(const struct heurx *x)
{
	return x->spec;
}

int heurx_timeout_ms(const struct heurx *x)
{
	return x->timeout_ms;
}

const char *heurx_gave_up(const struct heurx *x)
{
	return x->gave_up;
}

/* ---- the process ---- */

/* How the program ended, into WHY: after SIGKILL if it has not yet. */
static void heurx_reap(struct heurx *x, char *why, size_t len)
{
	int st = 0;
	pid_t r = waitpid(x->pid, &st, WNOHANG);

	/* its output closes as it exits: give the exit a moment to show */
	for (int i = 0; i < HEURX_REAP_MS && r == 0; i++) {
		usleep(1000);
		r = waitpid(x->pid, &st, WNOHANG);
	}
	if (r == 0) {
		/* it closed its stdout but lives on: it is no use any more */
		kill(x->pid, SIGKILL);
		r = waitpid(x->pid, &st, 0);
		snprintf(why, len, "closed its output");
	} else if (r < 0)
		snprintf(why, len, "is gone (%s)", strerror(errno));
	else if (WIFEXITED(st))
		snprintf(why, len, "exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(why, len, "was killed by signal %d (%s)", WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
	x->pid = 0;
}

static void heurx_close(struct heurx *x)
{
	if (x->in >= 0)
		close(x->in);
	if (x->out >= 0)
		close(x->out);
	x->in = x->out = -1;
	x->len = 0;
	x->skipping = false;
}

/* Starts the program with its stdin and stdout on pipes whose ends here do
 * not block: 0, or -errno (posix_spawnp reports a failed exec). */
static int heurx_spawn(struct heurx *x)
{
	int pin[2] = {-1, -1}, pout[2] = {-1, -1}, rc;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;

	if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0) {
		rc = -errno;
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
	posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
	posix_spawnattr_init(&at);
	/* the program gets the signals a shell would give it, not ours */
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = -posix_spawnp(&x->pid, x->argv[0], &fa, &at, x->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc < 0) {
		x->pid = 0;
		goto out;
	}
	x->in = pin[1];
	x->out = pout[0];
	pin[1] = pout[0] = -1;
	fcntl(x->in, F_SETFL, O_NONBLOCK);
	fcntl(x->out, F_SETFL, O_NONBLOCK);
out:
	for (int i = 0; i < 2; i++) {
		if (pin[i] >= 0)
			close(pin[i]);
		if (pout[i] >= 0)
			close(pout[i]);
	}
	return rc;
}

/* The program is no use any more (it died, or its pipes are out of step):
 * ended and reaped, WHY says how; started again unless it was once too
 * often. */
static void heurx_died(struct heurx *x, struct heurx_fail *f)
{
	heurx_close(x);
	if (x->pid)
		heurx_reap(x, f->why, sizeof(f->why));
	if (x->restarts >= HEURX_MAX_RESTARTS) {
		snprintf(x->gave_up, sizeof(x->gave_up),
			 "the program %.150s, after %d restarts: not started again", f->why,
			 x->restarts);
		f->gave_up = true;
		return;
	}
	x->restarts++;
	f->restarted = x->restarts;
	int rc = heurx_spawn(x);
	if (rc < 0) {
		snprintf(x->gave_up, sizeof(x->gave_up), "cannot start %.100s again: %s",
			 x->argv[0], strerror(-rc));
		f->gave_up = true;
		return;
	}
	/* its first request: no prediction goes to it before it answered
	 * (an interpreter may take a while to start) */
	char req[128];
	x->ready = false;
	x->first_id = x->next_id;
	x->started_ms = heurx_now_ms();
	int n = heurx_format_request(x->next_id++, 0, 1, &(struct heur_obs){1024, 0}, 1, req,
				     sizeof(req));
	ssize_t w = write(x->in, req, (size_t)n);
	(void)w;
}

/* Writes LINE whole before DEADLINE: 0, -EPIPE (the program is gone) or
 * -ETIMEDOUT (it does not read). */
static int heurx_write(struct heurx *x, const char *line, size_t n, int64_t deadline)
{
	size_t off = 0;

	while (off < n) {
		ssize_t w = write(x->in, line + off, n - off);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN)
			return -EPIPE;
		int64_t left = deadline - heurx_now_ms();
		struct pollfd p = {.fd = x->in, .events = POLLOUT};
		if (left <= 0 || poll(&p, 1, (int)left) == 0)
			return -ETIMEDOUT;
	}
	return 0;
}

/* Takes complete lines off the buffer until one answers request ID: > 0
 * candidates, -1 a bad answer (F says why), 0 no answer there yet. */
static int heurx_take(struct heurx *x, long id, int k, uint16_t *out, struct heurx_fail *f)
{
	char *nl;

	while ((nl = memchr(x->buf, '\n', x->len))) {
		size_t n = (size_t)(nl - x->buf) + 1;
		int rc = 0;
		if (!x->skipping)
			rc = heurx_parse_answer(x->buf, n, id, k, out, f->why, sizeof(f->why));
		if (rc < 0)
			heurx_json_text(x->buf, n - 1, f->answer, sizeof(f->answer));
		x->skipping = false;
		memmove(x->buf, x->buf + n, x->len - n);
		x->len -= n;
		if (rc)
			return rc;
	}
	if (x->len == sizeof(x->buf) && x->skipping) {
		x->len = 0; /* still the overlong one */
		return 0;
	}
	if (x->len == sizeof(x->buf)) {
		heurx_json_text(x->buf, 120, f->answer, sizeof(f->answer));
		snprintf(f->why, sizeof(f->why), "an answer longer than %d bytes", HEURX_MAX_LINE);
		/* the rest of it, up to its newline, is dropped as it comes */
		x->skipping = true;
		x->len = 0;
		return -1;
	}
	return 0;
}

/* Reads until the answer to request ID is there or DEADLINE passes. */
static int heurx_read(struct heurx *x, long id, int k, int64_t deadline, uint16_t *out,
		      struct heurx_fail *f)
{
	int64_t ms = deadline - heurx_now_ms();

	for (;;) {
		int rc = heurx_take(x, id, k, out, f);
		if (rc)
			return rc;
		ssize_t r = read(x->out, x->buf + x->len, sizeof(x->buf) - x->len);
		if (r > 0) {
			x->len += (size_t)r;
			continue;
		}
		if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
			heurx_died(x, f);
			return -1;
		}
		int64_t left = deadline - heurx_now_ms();
		struct pollfd p = {.fd = x->out, .events = POLLIN};
		if (left <= 0 || (poll(&p, 1, (int)left) == 0 && heurx_now_ms() >= deadline)) {
			snprintf(f->why, sizeof(f->why), "no answer within %lld ms",
				 (long long)(ms > 0 ? ms : 0));
			return -1;
		}
	}
}

/* Whether the restarted program has answered its first request, without
 * waiting: 0 it has (well or not), -1 not yet, or it died (F says). */
static int heurx_ready(struct heurx *x, struct heurx_fail *f)
{
	uint16_t c[1];
	int restarts = x->restarts;
	int rc = heurx_read(x, x->first_id, 1, heurx_now_ms(), c, f);

	if (rc != 0 && x->restarts == restarts && !f->gave_up && (rc > 0 || f->answer[0])) {
		x->ready = true;
		return 0;
	}
	if (!f->restarted && !f->gave_up)
		snprintf(f->why, sizeof(f->why), "started again %lld ms ago, not ready yet",
			 (long long)(heurx_now_ms() - x->started_ms));
	return -1;
}

int heurx_predict(struct heurx *x, const struct heur_obs *obs, int n, int round, int k,
		  int64_t deadline_ms, uint16_t *out, struct heurx_fail *f)
{
	char req[HEURX_MAX_REQUEST];

	memset(f, 0, sizeof(*f));
	if (x->gave_up[0]) {
		snprintf(f->why, sizeof(f->why), "%.199s", x->gave_up);
		return -1;
	}
	if (!x->ready && heurx_ready(x, f) < 0)
		return -1;
	memset(f, 0, sizeof(*f));
	if (!deadline_ms)
		deadline_ms = heurx_now_ms() + x->timeout_ms;
	long id = x->next_id++;
	int len = heurx_format_request(id, round, k, obs, n, req, sizeof(req));
	if (len < 0) {
		snprintf(f->why, sizeof(f->why), "the request does not fit in %zu bytes",
			 sizeof(req));
		return -1;
	}
	int rc = heurx_write(x, req, (size_t)len, deadline_ms);
	if (rc == -ETIMEDOUT) {
		/* part of a line may be in the pipe: the program's input is out of
		 * step with ours, so it goes */
		heurx_died(x, f);
		char was[sizeof(f->why)];
		memcpy(was, f->why, sizeof(was));
		snprintf(f->why, sizeof(f->why),
			 "it did not read its request within %d ms (%.120s)", x->timeout_ms, was);
		return -1;
	}
	if (rc < 0) {
		heurx_died(x, f);
		return -1;
	}
	return heurx_read(x, id, k, deadline_ms, out, f);
}

int heurx_start(const char *spec, int timeout_ms, struct heurx **out, char *err, size_t errlen)
{
	struct heurx *x = calloc(1, sizeof(*x));
	struct heurx_fail f;
	uint16_t cand[1];

	*out = NULL;
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	x->in = x->out = -1;
	x->timeout_ms = timeout_ms;
	x->next_id = 1;
	snprintf(x->spec, sizeof(x->spec), "%s", spec);
	if (heurx_parse_spec(spec, x->words, sizeof(x->words), x->argv, err, errlen) < 0)
		goto fail;
	signal(SIGPIPE, SIG_IGN);
	int rc = heurx_spawn(x);
	if (rc < 0) {
		snprintf(err, errlen, "cannot run %s: %s", x->argv[0], strerror(-rc));
		goto fail;
	}
	/* no restart for the first answer: a program that cannot give it is
	 * refused here, where the user sees why */
	x->restarts = HEURX_MAX_RESTARTS;
	x->ready = true;
	if (heurx_predict(x, &(struct heur_obs){1024, 0}, 1, 0, 1, heurx_now_ms() + HEURX_START_MS,
			  cand, &f) < 0) {
		snprintf(err, errlen, "%s: its first answer (round 0): %s%s%s%s", x->argv[0], f.why,
			 f.answer[0] ? ": \"" : "", f.answer, f.answer[0] ? "\"" : "");
		goto fail;
	}
	x->restarts = 0;
	*out = x;
	return 0;
fail:
	heurx_free(x);
	return -1;
}

void heurx_free(struct heurx *x)
{
	if (!x)
		return;
	if (x->in >= 0)
		close(x->in);
	x->in = -1;
	if (x->pid) {
		/* its stdin is closed: a well-behaved program ends now */
		pid_t r = 0;
		for (int i = 0; i < 20 && !(r = waitpid(x->pid, NULL, WNOHANG)); i++)
			usleep(5000);
		if (!r) {
			kill(x->pid, SIGKILL);
			waitpid(x->pid, NULL, 0);
		}
	}
	heurx_close(x);
	free(x);
}
