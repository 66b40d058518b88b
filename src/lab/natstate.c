// SPDX-License-Identifier: MIT
#include "natstate.h"
#include "ct.h"
#include "lab.h"
#include "natprofile.h"
#include "nft.h"
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

struct lab_nat {
	int nsfd;
	struct nft_ctx *nft; /* NULL: no dynamic maps or sets to flush */
	char reset[NAT_RESET_MAX];
};

struct lab_nat *lab_nat_open(const char *lab, const struct topo_node *n, int *err_out)
{
	struct lab_nat *nat = calloc(1, sizeof(*nat));
	if (!nat) {
		*err_out = -ENOMEM;
		return NULL;
	}
	nat->nsfd = lab_node_nsfd(lab, n->name);
	if (nat->nsfd < 0) {
		*err_out = nat->nsfd;
		free(nat);
		return NULL;
	}
	/* one context for the whole cell: freeing one waits out an RCU grace period */
	if (!n->ruleset && nat_reset_script(&n->nat, nat->reset) &&
	    !(nat->nft = nft_open_in(nat->nsfd))) {
		*err_out = -ENOMEM;
		lab_nat_close(nat);
		return NULL;
	}
	return nat;
}

int lab_nat_reset(struct lab_nat *nat)
{
	int rc = ct_flush_in(nat->nsfd);
	if (rc == 0 && nat->nft && nft_run(nat->nft, nat->reset) < 0)
		rc = -EIO;
	return rc;
}

int lab_nat_nsfd(const struct lab_nat *nat)
{
	return nat->nsfd;
}

void lab_nat_close(struct lab_nat *nat)
{
	if (!nat)
		return;
	nft_release(nat->nft);
	if (nat->nsfd >= 0)
		close(nat->nsfd);
	free(nat);
}
