#!/bin/sh
# SPDX-License-Identifier: MIT
# A peer punchlab did not write: socat, through a simultaneous open. The
# runner starts this in the peer's namespace with PUNCHLAB_* in the
# environment (docs/suite.md#commands); `punchlab rendezvous` does the
# probes and the signalling with S and says where to connect, from which
# local port, and when; with "command_rendezvous": "runner" the runner did
# it and those are in the environment already. Exit 0 only when a line went
# each way.
set -eu
if [ -z "${PUNCHLAB_GO_AT:-}" ]; then
	vars=$("$PUNCHLAB_EXE" rendezvous --server "$PUNCHLAB_SERVER" --session "$PUNCHLAB_SESSION" \
		--role "$PUNCHLAB_ROLE" --method "$PUNCHLAB_METHOD" --os "$PUNCHLAB_OS")
	eval "$vars"
fi
# wait for the go: both sides connect() at the same wall-clock moment
now=$(date +%s.%N)
sleep "$(awk -v g="$PUNCHLAB_GO_AT" -v n="$now" 'BEGIN { d = g - n; printf "%.6f", (d > 0 ? d : 0) }')"
# A side a few ms late finds its host has already refused the other's SYN
# (an endpoint-independent NAT lets it in; nothing listens): the other's
# connect() fails with ECONNREFUSED. Both retry, at different intervals so
# that the two do not keep missing each other.
[ "$PUNCHLAB_ROLE" = a ] && other=b interval=0.005 || other=a interval=0.02
got=$(echo "hello from $PUNCHLAB_ROLE" |
	socat -t 2 -T 5 - "TCP:$PUNCHLAB_REMOTE,bind=:$PUNCHLAB_LOCAL_PORT,reuseaddr,connect-timeout=3,retry=5,interval=$interval")
echo "local :$PUNCHLAB_LOCAL_PORT remote $PUNCHLAB_REMOTE got: $got"
[ "$got" = "hello from $other" ]
