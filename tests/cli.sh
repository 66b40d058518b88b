#!/bin/sh
# SPDX-License-Identifier: MIT
# The command line's contract, for every command that `punchlab --help` lists
# (and the hidden delayq), and every subcommand of topo: -h and --help print
# the usage on stdout and exit 0, the same text as `punchlab help CMD`; an
# unknown option is a usage error: exit 2, nothing on stdout, the usage on
# stderr. The unknown option comes before a --help, so a command that ignored
# it would stop at --help (and fail here) rather than do its work.
set -u
PL=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0

# check WHAT CMD...: "ok N - WHAT" when CMD succeeds, "not ok N - WHAT" when not
check() {
	what=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what"
	fi
}

# pl OUT ARGS...: runs punchlab ARGS, stdout in OUT.out, stderr in OUT.err,
# the exit status in OUT.rc
pl() {
	o=$tmp/$1
	shift
	rc=0
	timeout 10 "$PL" "$@" > "$o.out" 2> "$o.err" < /dev/null || rc=$?
	echo "$rc" > "$o.rc"
}

rc_is() { [ "$(cat "$tmp/$1.rc")" = "$2" ]; }

# help_ok CMD: --help exits 0 with a line "usage: punchlab CMD ..." on stdout
help_ok() {
	pl help "$1" --help
	rc_is help 0 && grep -Eq "^usage: punchlab $1( |\$)" "$tmp/help.out"
}

# same_help CMD...: -h, --help and `punchlab help CMD` print the same, exit 0
same_help() {
	pl long "$@" --help
	pl short "$@" -h
	pl cmd help "$1"
	rc_is long 0 && rc_is short 0 && rc_is cmd 0 && [ -s "$tmp/long.out" ] &&
		cmp -s "$tmp/long.out" "$tmp/short.out" && cmp -s "$tmp/long.out" "$tmp/cmd.out"
}

# bad_option USAGE CMD...: an unknown option exits 2, the usage (a line
# starting with USAGE) on stderr, nothing on stdout
bad_option() {
	want=$1
	shift
	pl bad "$@" --no-such-option --help
	rc_is bad 2 && [ ! -s "$tmp/bad.out" ] && grep -q "^$want" "$tmp/bad.err"
}

pl list --help
cmds=$(sed -n '/^commands:$/,/^$/s/^  \([a-z-]*\) .*/\1/p' "$tmp/list.out")
check "punchlab --help lists the commands" [ -n "$cmds" ]
for c in $cmds delayq keeper; do
	check "$c --help: exit 0, usage: punchlab $c on stdout" help_ok "$c"
	check "$c: -h, --help and punchlab help $c print the same" same_help "$c"
	check "$c --no-such-option: exit 2, the usage on stderr" bad_option "usage: punchlab $c" "$c"
done

pl topo topo --help
subs=$(sed -n 's/^\(usage:\)\{0,1\} *punchlab topo \([a-z]*\) .*/\2/p' "$tmp/topo.out")
check "punchlab topo --help lists the subcommands" [ -n "$subs" ]
for s in $subs; do
	check "topo $s: -h, --help and punchlab help topo print the same" same_help topo "$s"
	check "topo $s --no-such-option: exit 2, its usage on stderr" \
		bad_option "usage: punchlab topo $s" topo "$s"
done

# seed_refused VALUE CMD...: exit 2, nothing on stdout, and stderr says --seed wants a
# number and echoes the value. A later bad --listen/--server makes the command
# fail without touching the network, were the seed taken.
seed_refused() {
	value=$1
	shift
	pl seed "$@"
	rc_is seed 2 && [ ! -s "$tmp/seed.out" ] &&
		grep -q -- "--seed wants a number from 0 to 18446744073709551615, not \"$value\"" \
			"$tmp/seed.err"
}
check "server --seed -5 is refused, not taken as 2^64-5" \
	seed_refused -5 server --seed -5 --listen nonsense
check "peer --seed -1 is refused, not taken as 2^64-1" \
	seed_refused -1 peer --seed -1 --server nonsense --session 00 --role a
check "peer --seed ' -1' is refused" \
	seed_refused " -1" peer --seed " -1" --server nonsense --session 00 --role a
# echoed VALUE CMD...: exit 2, nothing on stdout, stderr quotes VALUE
echoed() {
	value=$1
	shift
	pl echo "$@"
	rc_is echo 2 && [ ! -s "$tmp/echo.out" ] && grep -qF -- "not \"$value\"" "$tmp/echo.err"
}
check "proxy --listen 127.0.0.1 (no port): the error echoes the value" \
	echoed 127.0.0.1 proxy --listen 127.0.0.1
check "classify --server 127.0.0.1 (no port): the error echoes the value" \
	echoed 127.0.0.1 classify --server 127.0.0.1
check "classify --timeout 5: refused, the value echoed" \
	echoed 5 classify --server 127.0.0.1:1 --timeout 5
check "classify-server --alt nonsense: the error echoes the value" \
	echoed nonsense classify-server --listen 127.0.0.1:1 --alt nonsense
check "classify-server --sink-port 0: refused, the value echoed" \
	echoed 0 classify-server --listen 127.0.0.1:1 --alt 127.0.0.2:2 --sink-port 0
for k in "1,2," ",1" "1,,2" "2,1" "0" "65" "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17" "+1" "1x"; do
	check "predict --k '$k' is refused, the value echoed" echoed "$k" predict --k "$k" nofile
done
check "peer --background-tcp 1.5 is refused: a share is 0 to 1" \
	echoed 1.5 peer --background-tcp 1.5 --server nonsense --session 00 --role a
check "peer --background-off -2 is refused" \
	echoed -2 peer --background-off -2 --server nonsense --session 00 --role a
# unknown_method CMD...: exit 2, nothing on stdout, the value and every method named
unknown_method() {
	pl um "$@"
	rc_is um 2 && [ ! -s "$tmp/um.out" ] &&
		grep -qF 'unknown method "sideways" (known: predict, reuse, stunt1' "$tmp/um.err"
}
check "server --method sideways is refused, the known methods listed" \
	unknown_method server --method sideways --listen 127.0.0.1:0
check "peer --method sideways is refused, the known methods listed" \
	unknown_method peer --method sideways --server nonsense --session 00 --role a
check "peer --ttl 0 is refused, the value echoed" \
	echoed 0 peer --method stunt1 --ttl 0 --server 127.0.0.1:1 --session 00 --role a
ttl_alone() {
	pl ta peer --ttl 3 --server 127.0.0.1:1 --session 0123456789abcdef0123456789abcdef --role a
	rc_is ta 2 && grep -q "needs --method stunt1" "$tmp/ta.err"
}
check "peer --ttl without --method stunt1 is refused" ttl_alone
stunt1_proxy() {
	pl sp peer --method stunt1 --proxy 127.0.0.1:1 --server 127.0.0.1:1 \
	    --session 0123456789abcdef0123456789abcdef --role a
	rc_is sp 2 && grep -q "cannot go through a proxy" "$tmp/sp.err"
}
check "peer --method stunt1 with --proxy is refused" stunt1_proxy
ttl_one() {
	pl t1 peer --method stunt1 --ttl 1 --server 127.0.0.1:1 \
	    --session 0123456789abcdef0123456789abcdef --role a
	rc_is t1 2 && grep -q -- "--ttl 1 reaches no NAT: the SYN expires at hop 1" "$tmp/t1.err"
}
check "peer --method stunt1 --ttl 1 is refused: it reaches no NAT" ttl_one
relay_alone() {
	pl ra peer --relay 127.0.0.1:2 --server 127.0.0.1:1 \
	    --session 0123456789abcdef0123456789abcdef --role a
	rc_is ra 2 && grep -q -- "--relay is where --method relay meets" "$tmp/ra.err"
}
check "peer --relay without --method relay is refused" relay_alone
method_help() {
	pl mh peer --method help
	rc_is mh 0 && grep -q "^stunt1 " "$tmp/mh.out" && grep -q "Guha & Francis" "$tmp/mh.out"
}
check "peer --method help lists the methods with their sources" method_help
reuse_heuristic() {
	pl rh server --method reuse --heuristic delta --listen 127.0.0.1:0
	rc_is rh 2 && grep -q "takes no --heuristic" "$tmp/rh.err"
}
check "server --method reuse with a --heuristic is refused" reuse_heuristic
echo "1..$n"
