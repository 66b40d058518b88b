/* SPDX-License-Identifier: MIT */
/*
 * What `punchlab classify` observed, and the verdicts drawn from it: pure
 * functions of recorded observations (tests/unit/test_verdict.c), no
 * network. The verdicts' names are the values of the topology's nat object
 * (docs/topology.md), in RFC 4787 / RFC 5382 terms. Whatever the evidence
 * does not decide is CV_UNKNOWN, with the reason in WHY, never a guess.
 */
#pragma once
#include "ctl.h"
#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#define CV_WHY 256 /* a verdict's reason */
#define CV_NOTE 96 /* an observation's error */
#define CV_MAX_PORTS 16
#define CV_MAX_HOLDS 12
/* RFC 5382 REQ-4: no answer to an unsolicited SYN for at least 6 s. An ICMP
 * error later than this is that; earlier, a NAT that answers at once. */
#define CV_RFC5382_MIN_MS 5000

enum cv_mapping { CV_MAP_UNKNOWN, CV_MAP_EIM, CV_MAP_ADM, CV_MAP_APDM };
enum cv_filtering { CV_FILT_UNKNOWN, CV_FILT_EIF, CV_FILT_ADF, CV_FILT_APDF };
enum cv_port { CV_PORT_UNKNOWN, CV_PORT_PRESERVE, CV_PORT_SEQUENTIAL, CV_PORT_RANDOM };
enum cv_unsol { CV_UNSOL_UNKNOWN, CV_UNSOL_RST, CV_UNSOL_DROP, CV_UNSOL_ICMP, CV_UNSOL_RFC5382 };
enum cv_hairpin { CV_HP_UNKNOWN, CV_HP_FALSE, CV_HP_TRUE };

/* One test connection to a server endpoint: what the server saw. */
struct cv_probe {
	bool ok;		/* a "seen" came back */
	uint16_t local_port;	/* ours */
	struct sockaddr_in to;	/* the server endpoint */
	struct sockaddr_in ext; /* the source the server saw: our mapping */
	char why[CV_NOTE];	/* when not ok */
};

/* One connection the server originated towards us, as it reported it. */
struct cv_outcome {
	bool asked, answered; /* we asked; an outcome line came back */
	enum cl_result result;
	int ms;
	int icmp_type, icmp_code; /* -1: unknown */
	uint32_t icmp_from;
	char err[24];
	struct sockaddr_in from, to;
	bool arrived; /* our listener accepted it and read its knock */
};

/* mapping: from one local port to each of the four endpoints (index as in
 * the welcome: A1:P1, A1:P2, A2:P1, A2:P2) */
struct cv_mapping_obs {
	struct cv_probe p[CL_NENDPOINTS];
};

/* filtering: BASE contacted A1:P1 from a fresh port that also listens; the
 * server then connected to BASE's mapping from A1:P2, A2:P1 and A2:P2 */
struct cv_filtering_obs {
	struct cv_probe base;
	struct cv_outcome o[3];
};

/* port assignment: connections from chosen local ports, in order */
struct cv_port_obs {
	int n;
	struct cv_probe p[CV_MAX_PORTS];
};

/* unsolicited SYN: the server connected to PORT of our address, a port
 * nothing of ours listens on nor has sent from */
struct cv_unsol_obs {
	uint16_t port;
	struct cv_outcome o;
};

/* hairpin: BASE learnt socket 1's mapping; socket 2 connected to it */
struct cv_hairpin_obs {
	struct cv_probe base;
	bool tried, connected, accepted; /* accepted: with socket 2's nonce */
	int ms;
	char why[CV_NOTE];
};

/* a binding's lifetime: connection i idle HOLD_S[i] s, then the server
 * sent on it: ALIVE 1 it arrived, 0 it did not, -1 unknown (no probe) */
struct cv_life_obs {
	int n;
	int hold_s[CV_MAX_HOLDS];
	int alive[CV_MAX_HOLDS];
	char why[CV_NOTE]; /* when nothing could be tried */
};

struct cv_life {
	bool known;
	int seconds;	/* the middle of [lo, hi) when known */
	int lo_s, hi_s; /* alive after lo_s, gone after hi_s (-1: not seen) */
};

struct cv_obs {
	struct sockaddr_in server, you, ep[CL_NENDPOINTS];
	struct sockaddr_in sink; /* port 0: the server offers none */
	bool welcomed;
	char why[CV_NOTE];  /* why there is nothing, when not welcomed */
	char lost[CV_NOTE]; /* the control connection failed midway: why */
	struct cv_mapping_obs mapping;
	struct cv_filtering_obs filtering;
	struct cv_port_obs port;
	struct cv_unsol_obs unsol;
	struct cv_hairpin_obs hairpin;
	bool lng; /* --long: the lifetimes were measured */
	struct cv_life_obs syn_sent, established;
	int64_t elapsed_ms, long_budget_s;
};

const char *cv_mapping_name(enum cv_mapping v);
const char *cv_filtering_name(enum cv_filtering v);
const char *cv_port_name(enum cv_port v);
const char *cv_unsol_name(enum cv_unsol v);

/* Each verdict: the value, and in WHY (CV_WHY bytes) the evidence or, for
 * CV_*_UNKNOWN, the reason. */
enum cv_mapping cv_mapping(const struct cv_mapping_obs *o, char *why);
enum cv_filtering cv_filtering(const struct cv_filtering_obs *o, char *why);
/* *DELTA: the step, when sequential */
enum cv_port cv_port(const struct cv_port_obs *o, int *delta, char *why);
enum cv_unsol cv_unsol(const struct cv_unsol_obs *o, char *why);
enum cv_hairpin cv_hairpin(const struct cv_hairpin_obs *o, char *why);
struct cv_life cv_life(const struct cv_life_obs *o, char *why);

/* The whole result: the verdicts under the nat object's field names, and
 * "observations" with the evidence and reasons. A new reference. */
json_t *cv_report(const struct cv_obs *o);
