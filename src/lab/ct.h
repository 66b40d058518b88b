/* SPDX-License-Identifier: MIT */
#pragma once

/* Empties the IPv4 conntrack table of namespace NSFD (ctnetlink), so that a
 * trial starts with no mapping left by the one before. 0 or -errno. */
int ct_flush_in(int nsfd);
