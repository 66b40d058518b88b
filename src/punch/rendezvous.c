// SPDX-License-Identifier: MIT
#include "rendezvous.h"
#include "util/strbuf.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int rdv_shell_quote(const char *s, char *out, size_t outlen)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_add_sh_word(&sb, s);
	int n = sb.failed || sb.len + 1 > outlen ? -1 : (int)sb.len;
	if (n >= 0)
		memcpy(out, sb.buf, sb.len + 1);
	strbuf_release(&sb);
	return n;
}

void rdv_vars(const struct rdv_outcome *o, struct rdv_var v[RDV_NVARS])
{
	static const char *const names[RDV_NVARS] = {"ROLE",	    "METHOD",	    "LOCAL_ADDR",
						     "LOCAL_PORT",  "REMOTE",	    "REMOTE_ADDR",
						     "REMOTE_PORT", "REMOTE_PORTS", "GO_AT"};
	char a[INET_ADDRSTRLEN];
	unsigned first = o->nports > 0 ? o->remote_ports[0] : 0;
	int n = 0;

	for (int i = 0; i < RDV_NVARS; i++)
		v[i].name = names[i];
	snprintf(v[0].value, sizeof(v[0].value), "%s", o->role == 'b' ? "b" : "a");
	snprintf(v[1].value, sizeof(v[1].value), "%s", punch_method_str(o->method));
	inet_ntop(AF_INET, &o->local_addr, v[2].value, sizeof(v[2].value));
	snprintf(v[3].value, sizeof(v[3].value), "%u", o->local_port);
	inet_ntop(AF_INET, &o->remote_addr, a, sizeof(a));
	snprintf(v[4].value, sizeof(v[4].value), "%s:%u", a, first);
	snprintf(v[5].value, sizeof(v[5].value), "%s", a);
	snprintf(v[6].value, sizeof(v[6].value), "%u", first);
	v[7].value[0] = 0;
	for (int i = 0; i < o->nports && i < PROTO_MAX_PORTS; i++)
		n += snprintf(v[7].value + n, sizeof(v[7].value) - (size_t)n, "%s%u", i ? " " : "",
			      o->remote_ports[i]);
	snprintf(v[8].value, sizeof(v[8].value), "%.6f", o->go_at);
}

char *rdv_format(const struct rdv_outcome *o)
{
	struct strbuf sb = STRBUF_INIT;
	struct rdv_var v[RDV_NVARS];

	rdv_vars(o, v);
	for (int i = 0; i < RDV_NVARS; i++) {
		strbuf_addf(&sb, "PUNCHLAB_%s=", v[i].name);
		strbuf_add_sh_word(&sb, v[i].value);
		strbuf_add(&sb, "\n", 1);
	}
	strbuf_addf(&sb, "export");
	for (int i = 0; i < RDV_NVARS; i++)
		strbuf_addf(&sb, " PUNCHLAB_%s", v[i].name);
	strbuf_addf(&sb, "\n");
	if (sb.failed) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb);
}

/* The program binds PORT with SO_REUSEADDR (socat's reuseaddr); so do we,
 * once, so that a port still held (a listener, a connection on it) is an
 * error here rather than a bind failure in the program. */
static int check_bindable(uint16_t port, char *err, size_t errlen)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int rc = fd < 0 ? -1 : setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (rc == 0)
		rc = bind(fd, (struct sockaddr *)&a, sizeof(a));
	if (rc < 0)
		snprintf(err, errlen, "the local port %u cannot be bound again: %s", port,
			 strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc < 0 ? -1 : 0;
}

int rdv_run(const struct peer_config *c, struct rdv_outcome *o, char *err, size_t errlen)
{
	struct peer_signal sig;
	struct timespec ts;

	memset(o, 0, sizeof(*o));
	if (peer_signal(c, &sig) < 0) {
		snprintf(err, errlen, "%s", sig.error);
		return -1;
	}
	/* the punch's go is relative to its arrival, a moment ago */
	clock_gettime(CLOCK_REALTIME, &ts);
	o->go_at = (double)ts.tv_sec + ts.tv_nsec / 1e9 + sig.go_ms / 1e3;
	o->role = c->role;
	o->method = c->method;
	o->local_addr = sig.local_addr;
	o->local_port = sig.local_port;
	o->remote_addr = sig.remote_addr;
	o->nports = sig.nports;
	memcpy(o->remote_ports, sig.remote_ports, sizeof(o->remote_ports));
	return o->local_port ? check_bindable(o->local_port, err, errlen) : 0;
}
