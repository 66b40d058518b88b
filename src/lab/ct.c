// SPDX-License-Identifier: MIT
#include "ct.h"
#include "netns.h"
#include <errno.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int ct_flush_in(int nsfd)
{
	int saved, fd, rc;

	if ((rc = netns_enter(nsfd, &saved)) < 0)
		return rc;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	netns_leave(saved);
	if (fd < 0)
		return -errno;
	/* IPCTNL_MSG_CT_DELETE with no tuple deletes every entry of the family */
	struct {
		struct nlmsghdr nh;
		struct nfgenmsg nf;
	} req = {
	    .nh = {.nlmsg_len = sizeof(req),
		   .nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE,
		   .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
		   .nlmsg_seq = 1},
	    .nf = {.nfgen_family = AF_INET, .version = NFNETLINK_V0},
	};
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	char buf[512];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	rc = 0;
	if (n < 0) {
		rc = -errno;
	} else if ((size_t)n >= sizeof(struct nlmsghdr) + sizeof(int)) {
		struct nlmsghdr *h = (struct nlmsghdr *)buf;
		if (h->nlmsg_type == NLMSG_ERROR) {
			int e;
			memcpy(&e, NLMSG_DATA(h), sizeof(e));
			rc = e; /* 0 is the ack */
		}
	}
	close(fd);
	return rc;
}
