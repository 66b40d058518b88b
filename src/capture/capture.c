// SPDX-License-Identifier: MIT
#include "capture.h"
#include "pcap_dl.h"
#include "util/outfile.h"
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#define CAP_FILTER "tcp[tcpflags] & (tcp-syn|tcp-rst) != 0"

/* libpcap is loaded when the first capture starts (pcap_dl.h): each pcap_*()
 * call below goes through its table, which cap_start() has checked */
#define pcap_activate (pcap_dl_load(NULL, 0)->activate)
#define pcap_breakloop (pcap_dl_load(NULL, 0)->breakloop)
#define pcap_close (pcap_dl_load(NULL, 0)->close)
#define pcap_compile (pcap_dl_load(NULL, 0)->compile)
#define pcap_create (pcap_dl_load(NULL, 0)->create)
#define pcap_datalink (pcap_dl_load(NULL, 0)->datalink)
#define pcap_dispatch (pcap_dl_load(NULL, 0)->dispatch)
#define pcap_dump (pcap_dl_load(NULL, 0)->dump)
#define pcap_dump_close (pcap_dl_load(NULL, 0)->dump_close)
#define pcap_dump_file (pcap_dl_load(NULL, 0)->dump_file)
#define pcap_dump_flush (pcap_dl_load(NULL, 0)->dump_flush)
#define pcap_dump_fopen (pcap_dl_load(NULL, 0)->dump_fopen)
#define pcap_freecode (pcap_dl_load(NULL, 0)->freecode)
#define pcap_geterr (pcap_dl_load(NULL, 0)->geterr)
#define pcap_set_buffer_size (pcap_dl_load(NULL, 0)->set_buffer_size)
#define pcap_set_immediate_mode (pcap_dl_load(NULL, 0)->set_immediate_mode)
#define pcap_set_snaplen (pcap_dl_load(NULL, 0)->set_snaplen)
#define pcap_set_timeout (pcap_dl_load(NULL, 0)->set_timeout)
#define pcap_setfilter (pcap_dl_load(NULL, 0)->setfilter)
#define pcap_setnonblock (pcap_dl_load(NULL, 0)->setnonblock)
#define pcap_stats (pcap_dl_load(NULL, 0)->stats)

struct capture {
	pthread_t thread;
	int nsfd; /* a copy of the caller's, which the thread closes once inside */
	char ifname[32];
	char *pcap_path;
	pcap_t *p;
	pcap_dumper_t *dump;
	struct outfile of; /* the pcap file, until cap_stop commits it */
	int linktype;
	volatile bool stop;
	struct cap_event *ev;
	size_t n, cap;
	unsigned drops;
	/* start-up handshake with cap_start */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int state;			    /* 0 starting, 1 running, -1 failed */
	char err[sizeof(struct perr) + 64]; /* pcap's words, or an outfile error */
};

static void on_packet(u_char *arg, const struct pcap_pkthdr *h, const u_char *pkt)
{
	struct capture *c = (struct capture *)arg;
	size_t off;

	if (c->dump)
		pcap_dump((u_char *)c->dump, h, pkt);
	/* the link types a lab has: veth and bridges are Ethernet; "any" is SLL */
	switch (c->linktype) {
	case DLT_EN10MB:
		if (h->caplen < 14 || pkt[12] != 0x08 || pkt[13] != 0x00)
			return;
		off = 14;
		break;
	case DLT_LINUX_SLL:
		off = 16;
		break;
	case DLT_RAW:
		off = 0;
		break;
	default:
		return;
	}
	if (h->caplen < off + 20 || (pkt[off] >> 4) != 4)
		return;
	size_t ihl = (size_t)(pkt[off] & 15) * 4;
	if (pkt[off + 9] != 6 || h->caplen < off + ihl + 14)
		return;
	const u_char *tcp = pkt + off + ihl;
	struct cap_event e = {
	    .t = h->ts.tv_sec + h->ts.tv_usec / 1e6,
	    .sport = (uint16_t)(tcp[0] << 8 | tcp[1]),
	    .dport = (uint16_t)(tcp[2] << 8 | tcp[3]),
	    .flags = tcp[13],
	};
	memcpy(&e.saddr, pkt + off + 12, 4);
	memcpy(&e.daddr, pkt + off + 16, 4);
	pthread_mutex_lock(&c->mu);
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 256;
		struct cap_event *nev = realloc(c->ev, ncap * sizeof(*nev));
		if (!nev) {
			c->drops++;
			pthread_mutex_unlock(&c->mu);
			return;
		}
		c->ev = nev;
		c->cap = ncap;
	}
	c->ev[c->n++] = e;
	pthread_mutex_unlock(&c->mu);
}

static void set_state(struct capture *c, int state)
{
	pthread_mutex_lock(&c->mu);
	c->state = state;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* The pcap file through util/outfile, not pcap_dump_open(): that is fopen(),
 * which follows a planted link and truncates whatever the path names. pcap
 * gets its own FILE on a duplicate of the descriptor, as pcap_dump_close()
 * closes it; cap_stop() then commits the file through ours. */
static int open_dump(struct capture *c)
{
	struct perr err;
	if (outfile_open(&c->of, c->pcap_path, &err) < 0) {
		snprintf(c->err, sizeof(c->err), "%s", err.msg);
		return -1;
	}
	int fd = fcntl(fileno(c->of.f), F_DUPFD_CLOEXEC, 0);
	FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (!f) {
		snprintf(c->err, sizeof(c->err), "%s: cannot write: %s", c->pcap_path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
	} else if (!(c->dump = pcap_dump_fopen(c->p, f))) {
		snprintf(c->err, sizeof(c->err), "%s: %s", c->pcap_path, pcap_geterr(c->p));
		fclose(f);
	}
	if (!c->dump)
		outfile_abort(&c->of);
	return c->dump ? 0 : -1;
}

static void *cap_thread(void *arg)
{
	struct capture *c = arg;
	char eb[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;

	/* only this thread moves: the handle is opened inside the namespace */
	int in = setns(c->nsfd, CLONE_NEWNET);
	close(c->nsfd);
	if (in < 0) {
		snprintf(c->err, sizeof(c->err), "setns: %s", strerror(errno));
		set_state(c, -1);
		return NULL;
	}
	c->p = pcap_create(c->ifname, eb);
	if (!c->p) {
		snprintf(c->err, sizeof(c->err), "%s", eb);
		set_state(c, -1);
		return NULL;
	}
	pcap_set_snaplen(c->p, 128);
	pcap_set_immediate_mode(c->p, 1);
	/* the filter passes SYNs and RSTs only, a few dozen a trial, read at
	 * once (immediate mode): 1 MB holds thousands. Each ring is resident
	 * in the run's memory, a few per lab (4 MB each was 300 MB at -j 24) */
	pcap_set_buffer_size(c->p, 1 << 20);
	pcap_set_timeout(c->p, 20);
	if (pcap_activate(c->p) < 0 ||
	    pcap_compile(c->p, &prog, CAP_FILTER, 1, PCAP_NETMASK_UNKNOWN) < 0 ||
	    pcap_setfilter(c->p, &prog) < 0) {
		snprintf(c->err, sizeof(c->err), "%s: %s", c->ifname, pcap_geterr(c->p));
		set_state(c, -1);
		return NULL;
	}
	pcap_freecode(&prog);
	c->linktype = pcap_datalink(c->p);
	if (c->pcap_path && open_dump(c) < 0) {
		set_state(c, -1);
		return NULL;
	}
	set_state(c, 1);
	while (!c->stop)
		if (pcap_dispatch(c->p, -1, on_packet, (u_char *)c) < 0)
			break;
	/* what is still buffered, without waiting: in immediate mode a blocking
	 * dispatch would sleep until the next packet, however long */
	char eb2[PCAP_ERRBUF_SIZE];
	if (pcap_setnonblock(c->p, 1, eb2) == 0)
		pcap_dispatch(c->p, -1, on_packet, (u_char *)c);
	struct pcap_stat st;
	if (pcap_stats(c->p, &st) == 0)
		c->drops += st.ps_drop + st.ps_ifdrop;
	/* closed here, beside the lab's other captures: closing a packet
	 * socket with a ring waits out two RCU grace periods (some 30 ms) */
	pthread_mutex_lock(&c->mu);
	pcap_t *p = c->p;
	c->p = NULL;
	pthread_mutex_unlock(&c->mu);
	pcap_close(p);
	return NULL;
}

int cap_launch(struct capture **out, int nsfd, const char *ifname, const char *pcap_path,
	       char *err, size_t errlen)
{
	*out = NULL;
	if (!pcap_dl_load(err, errlen))
		return -ENOSYS;
	struct capture *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	snprintf(c->ifname, sizeof(c->ifname), "%s", ifname);
	if (pcap_path)
		c->pcap_path = strdup(pcap_path);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	int e = (c->nsfd = fcntl(nsfd, F_DUPFD_CLOEXEC, 0)) < 0 ? errno : 0;
	if (!e && (e = pthread_create(&c->thread, NULL, cap_thread, c)) != 0)
		close(c->nsfd);
	if (e) {
		snprintf(err, errlen, "%s", strerror(e));
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
		free(c->pcap_path);
		free(c);
		return -e;
	}
	*out = c;
	return 0;
}

int cap_ready(struct capture *c, char *err, size_t errlen)
{
	pthread_mutex_lock(&c->mu);
	while (c->state == 0)
		pthread_cond_wait(&c->cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
	if (c->state > 0)
		return 0;
	snprintf(err, errlen, "%s", c->err);
	return -EIO;
}

int cap_start(struct capture **out, int nsfd, const char *ifname, const char *pcap_path, char *err,
	      size_t errlen)
{
	int rc = cap_launch(out, nsfd, ifname, pcap_path, err, errlen);
	if (rc == 0 && (rc = cap_ready(*out, err, errlen)) < 0) {
		cap_stop(*out, NULL, NULL, NULL, NULL, 0);
		*out = NULL;
	}
	return rc;
}

void cap_signal(struct capture *c)
{
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	if (c->p)
		pcap_breakloop(c->p);
	pthread_mutex_unlock(&c->mu);
}

/* pcap's FILE flushed and closed, then the file committed: 0 or -errno. */
static int close_dump(struct capture *c, char *err, size_t errlen)
{
	struct perr e;
	int rc = 0;

	if (!c->dump)
		return 0;
	/* pcap_dump() does not check fwrite(): an earlier failure shows in ferror */
	if (pcap_dump_flush(c->dump) < 0)
		rc = errno ? -errno : -EIO;
	else if (ferror(pcap_dump_file(c->dump)))
		rc = -EIO;
	if (rc < 0)
		snprintf(e.msg, sizeof(e.msg), "%s: cannot write: %s", c->pcap_path, strerror(-rc));
	pcap_dump_close(c->dump);
	c->dump = NULL;
	if (rc < 0)
		outfile_abort(&c->of);
	else
		rc = outfile_commit(&c->of, &e);
	if (rc < 0 && err)
		snprintf(err, errlen, "%s", e.msg);
	return rc;
}

int cap_stop(struct capture *c, struct cap_event **events, size_t *n, unsigned *drops, char *err,
	     size_t errlen)
{
	cap_signal(c);
	pthread_join(c->thread, NULL);
	int rc = close_dump(c, err, errlen);
	if (c->p) /* the thread failed before capturing */
		pcap_close(c->p);
	if (events) {
		*events = c->ev;
		*n = c->n;
	} else {
		free(c->ev);
	}
	if (drops)
		*drops = c->drops;
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c->pcap_path);
	free(c);
	return rc;
}

int cap_take(struct capture *c, double t_end, struct cap_event **events, size_t *n)
{
	/* what the kernel has not handed to pcap yet is still in flight: with
	 * immediate mode it is microseconds; the caller waits a little first */
	pthread_mutex_lock(&c->mu);
	size_t k = 0;
	while (k < c->n && c->ev[k].t < t_end)
		k++;
	*events = NULL;
	*n = k;
	if (k) {
		*events = malloc(k * sizeof(**events));
		if (*events) {
			memcpy(*events, c->ev, k * sizeof(**events));
			memmove(c->ev, c->ev + k, (c->n - k) * sizeof(*c->ev));
			c->n -= k;
		} else {
			*n = 0;
		}
	}
	pthread_mutex_unlock(&c->mu);
	return 0;
}
