/* SPDX-License-Identifier: MIT */
/*
 * What the wire saw in one trial, from the events of every capture point:
 * the SYN/SYN-ACK/RST timeline in time order, the external port each NAT
 * used for the punch, and whether the peers' SYNs crossed.
 */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include "capture.h"

struct cap_point_events {
	const char *node;	    /* the capture point's node */
	uint32_t addr;		    /* its interface's address (network order) */
	const struct cap_event *ev; /* in capture order */
	size_t n;
};

/*
 * {"syns_crossed", "external_ports", "timeline"} of events at or after T0
 * (seconds, as pcap stamps them). SERVER is S's address: SYNs to or from it
 * are the peers' probes, not the punch. A NAT's external port is the source
 * port of its last SYN (not SYN-ACK) to a peer from its own address.
 */
json_t *cap_trial_record(const struct cap_point_events *pts, int npts, double t0, uint32_t server);

/*
 * True when a SYN went each way between the same two endpoints before a
 * SYN-ACK of either was seen: a simultaneous open, not a listen/accept.
 */
bool cap_syns_crossed(const struct cap_event *ev, size_t n, uint32_t server);
