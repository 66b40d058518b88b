#!/bin/sh
# SPDX-License-Identifier: MIT
# A peer punchlab did not write: socat, through a simultaneous open. The
# runner starts this in the peer's namespace with PUNCHLAB_* in the
# environment (docs/suite.md#commands); `punchlab rendezvous` does the
# probes and the signalling with S and says where to connect, from which
# local port, and when. Exit 0 only when a line went each way.
set -eu
vars=$("$PUNCHLAB_EXE" rendezvous --server "$PUNCHLAB_SERVER" --session "$PUNCHLAB_SESSION" \
	--role "$PUNCHLAB_ROLE" --method "$PUNCHLAB_METHOD" --os "$PUNCHLAB_OS")
eval "$vars"
# wait for the go: both sides connect() at the same wall-clock moment
now=$(date +%s.%N)
sleep "$(awk -v g="$PUNCHLAB_GO_AT" -v n="$now" 'BEGIN { d = g - n; printf "%.6f", (d > 0 ? d : 0) }')"
[ "$PUNCHLAB_ROLE" = a ] && other=b || other=a
got=$(echo "hello from $PUNCHLAB_ROLE" |
	socat -t 2 -T 5 - "TCP:$PUNCHLAB_REMOTE,bind=:$PUNCHLAB_LOCAL_PORT,reuseaddr,connect-timeout=3")
echo "local :$PUNCHLAB_LOCAL_PORT remote $PUNCHLAB_REMOTE got: $got"
[ "$got" = "hello from $other" ]
