// SPDX-License-Identifier: MIT
#include "ct.h"
#include "netns.h"
#include "nlmsg.h"
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
	rc = pl_nl_send(fd, &req, sizeof(req));
	if (rc == 0)
		rc = pl_nl_acks(fd, 1, 5000);
	close(fd);
	return rc;
}
