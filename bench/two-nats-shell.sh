#!/bin/sh
# SPDX-License-Identifier: MIT
# The baseline: topologies/two-nats.json built (up) and removed (down) with
# `ip` and `nft` commands, the way one would by hand. Same namespaces, links,
# addresses, routes, forwarding and NAT rulesets as `punchlab topo up`, and
# the same 10 ms delay on each NAT's outside link: the same helper
# (`punchlab delayq`), fed by NFQUEUE rules loaded with iptables-nft-restore.
# With RULES=DIR (bench/topo-updown PRESET writes it from a lab of that
# preset), each NAT gets DIR/nat-X.nft, DIR/ipt-X (its NFQUEUE rules),
# DIR/delayq-X (the helper's queues) and DIR/sysctl-X (KEY=VALUE lines)
# instead of the plain masquerade: the same rules punchlab builds.
# usage: two-nats-shell.sh up|down NAME
set -eu
op=$1 n=$2
PL=${PUNCHLAB:-build/punchlab}
ns() { echo "pl-$n-$1"; }
if [ "$op" = down ]; then
	for x in nat-a nat-b; do
		pids=$(ip netns pids "$(ns $x)")
		[ -z "$pids" ] || kill $pids
	done
	for x in server nat-a nat-b peer-a peer-b fabric; do ip netns del "$(ns $x)"; done
	exit 0
fi
for x in server nat-a nat-b peer-a peer-b fabric; do ip netns add "$(ns $x)"; done
F=$(ns fabric)
ip -n "$F" link add br0 type bridge
ip -n "$F" link set br0 up
i=0
for x in server nat-a nat-b; do
	ip -n "$F" link add p0-$i type veth peer name internet netns "$(ns $x)"
	ip -n "$F" link set p0-$i master br0 up
	i=$((i + 1))
done
ip -n "$(ns nat-a)" link add lan-a type veth peer name lan-a netns "$(ns peer-a)"
ip -n "$(ns nat-b)" link add lan-b type veth peer name lan-b netns "$(ns peer-b)"
addr() { ip -n "$(ns $1)" link set "$2" up; ip -n "$(ns $1)" addr add "$3" dev "$2"; }
for x in server nat-a nat-b peer-a peer-b; do ip -n "$(ns $x)" link set lo up; done
addr server internet 198.18.0.1/24
addr nat-a internet 198.18.0.2/24
addr nat-b internet 198.18.0.3/24
addr nat-a lan-a 198.19.1.1/24
addr nat-b lan-b 198.19.2.1/24
addr peer-a lan-a 198.19.1.2/24
addr peer-b lan-b 198.19.2.2/24
ip -n "$(ns peer-a)" route add default via 198.19.1.1
ip -n "$(ns peer-b)" route add default via 198.19.2.1
for side in a b; do
	N=$(ns nat-$side)
	queues="1:10:0 2:10:0"
	[ -z "${RULES:-}" ] || queues=$(cat "$RULES/delayq-$side")
	nq=$(echo "$queues" | wc -w)
	# the delay helper first, then wait until its queues are bound: NFQUEUE
	# without a listener drops
	# shellcheck disable=SC2086 # one argument per queue
	ip netns exec "$N" setsid "$PL" delayq $queues </dev/null >/dev/null 2>&1 &
	until ip netns exec "$N" sh -c "test \"\$(wc -l < /proc/net/netfilter/nfnetlink_queue)\" -ge $nq"; do
		sleep 0.001
	done
	if [ -n "${RULES:-}" ]; then
		ip netns exec "$N" iptables-nft-restore --noflush < "$RULES/ipt-$side"
		ip netns exec "$N" sysctl -qw net.ipv4.ip_forward=1
		while read -r kv; do ip netns exec "$N" sysctl -qw "$kv"; done < "$RULES/sysctl-$side"
		ip netns exec "$N" nft -f "$RULES/nat-$side.nft"
		continue
	fi
	ip netns exec "$N" iptables-nft-restore --noflush <<IPT
*mangle
-A POSTROUTING -o internet -j NFQUEUE --queue-num 1
-A PREROUTING -i internet -j NFQUEUE --queue-num 2
COMMIT
IPT
	ip netns exec "$N" sysctl -qw net.ipv4.ip_forward=1
	net=198.19.1.0/24 out=198.18.0.2
	[ "$side" = b ] && net=198.19.2.0/24 out=198.18.0.3
	ip netns exec "$N" nft -f - <<NFT
table ip punchlab_nat {
	chain prerouting { type nat hook prerouting priority dstnat; policy accept; }
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "internet" ip saddr $net snat ip to $out
	}
}
NFT
done
