/* SPDX-License-Identifier: MIT */
/*
 * Why a trial failed, decided from what the wire saw (issue 12, item 6).
 * S's own verdict (docs/protocol.md) can only judge a prediction when the
 * NAT preserved every probe's port and the peer learnt its punch's local
 * port; behind a dropping NAT a native peer never does, so the same
 * misprediction was "timeout" behind rfc5382 and "mispredicted" behind
 * home-2009. The capture knows the external port each punch SYN left with,
 * whatever the NAT does with unsolicited SYNs: the reason comes from it.
 */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define VERDICT_MAX_PORTS 16

/* One side of the last round. */
struct verdict_side {
	uint16_t predicted[VERDICT_MAX_PORTS]; /* S's candidates for it (told the other side) */
	int npredicted;
	uint16_t used[VERDICT_MAX_PORTS]; /* external ports its punch SYNs left with */
	int nused;			  /* 0: the capture saw no punch SYN of it */
};

struct verdict_in {
	struct verdict_side side[2]; /* a, b */
	bool rst;		     /* a RST crossed between the two sides' punch ports */
	const char *peers;	     /* the reason the peers reported (S's verdict), or NULL */
};

/*
 * The reason of a failed trial, a pure function of IN:
 * - what is not about the prediction stays as the peers said it:
 *   verify-failed, proxy-error, no-hairpin, peer-gone, server-error;
 * - "mispredicted" when a side's punch was seen and none of its external
 *   ports was among S's candidates for it;
 * - when both were seen and predicted right: "rst" if a RST came back,
 *   "timeout" if nothing did;
 * - otherwise (a side's punch not seen) the peers' reason.
 */
const char *verdict_reason(const struct verdict_in *in);

/* Whether SIDE's punch was seen and one of its ports predicted: 1, 0, or -1 (not seen). */
int verdict_hit(const struct verdict_side *side);

/*
 * IN from a trial record (docs/results.md): each side's last candidates from
 * the other's "ports_predicted", its external address from the other's
 * "remote", and from "capture"."timeline" the SYNs between the two external
 * addresses after the last SYN either sent elsewhere (a probe to S): the last
 * round's punch. IN->peers points into TRIAL.
 */
void verdict_from_trial(json_t *trial, struct verdict_in *in);

/* TRIAL's "reason" (when it did not connect) from verdict_reason(), and each
 * side's "prediction_hit" from the capture where it saw the punch. */
void verdict_apply(json_t *trial);
