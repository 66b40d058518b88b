/* SPDX-License-Identifier: MIT */
/*
 * SYN/RST capture with libpcap inside a lab's namespace: one thread per
 * capture point, entered into its namespace with setns() (a pcap handle
 * keeps the namespace it was opened in), collecting TCP SYN and RST packets
 * with their times until stopped.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct cap_event {
	double t;	       /* seconds, CLOCK_REALTIME as pcap stamps it */
	uint32_t saddr, daddr; /* network byte order */
	uint16_t sport, dport;
	uint8_t flags; /* TCP flags byte: FIN 0x01 SYN 0x02 RST 0x04 ACK 0x10 */
};

#define CAP_SYN 0x02
#define CAP_RST 0x04
#define CAP_ACK 0x10

struct capture;

/* Starts capturing on IFNAME inside namespace NSFD; writes every packet to
 * PCAP_PATH too when given. ERR gets pcap's words on failure. */
int cap_start(struct capture **out, int nsfd, const char *ifname, const char *pcap_path, char *err,
	      size_t errlen);
/* cap_start() in two halves, so that a lab's captures start side by side
 * (setting up a packet ring waits out an RCU grace period): cap_launch()
 * starts the capture's thread (NSFD may be closed at once), cap_ready()
 * waits until it captures, or says why not (0 or -errno; then cap_stop()
 * it all the same). */
int cap_launch(struct capture **out, int nsfd, const char *ifname, const char *pcap_path,
	       char *err, size_t errlen);
int cap_ready(struct capture *c, char *err, size_t errlen);
/* Asks C to stop, without waiting: a lab's captures signalled first, then
 * each cap_stop()ped, close their sockets side by side. */
void cap_signal(struct capture *c);
/* While running: moves the events stamped before T_END (seconds, as pcap
 * stamps them) to *EVENTS (caller frees), dropping them from the capture. */
int cap_take(struct capture *c, double t_end, struct cap_event **events, size_t *n);
/* Stops, hands over the events (caller frees *EVENTS) and the drop count,
 * and puts the pcap file in place (util/outfile: only over a missing or
 * regular file). Returns 0, or -errno when the pcap file could not be
 * written, with "PATH: cannot ACTION: REASON" in ERR (if not NULL). */
int cap_stop(struct capture *c, struct cap_event **events, size_t *n, unsigned *drops, char *err,
	     size_t errlen);
