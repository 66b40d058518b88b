#!/bin/sh
# SPDX-License-Identifier: MIT
# Without root (docs/scale.md): the user pltest builds, enters, lists and
# removes labs through user namespaces, with everything under its runtime
# directory and nothing under /run; runs the smoke suite to the same cells as
# root; sees only its own labs while root's cleanup finds them and says
# whose; a killed run leaves nothing after the user's cleanup; and a kernel
# that refuses user namespaces gets an error naming the setting.
set -eu
PL=$1 SRC=$2
. "$SRC/tests/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root"
command -v setpriv >/dev/null || skip_all "no setpriv"
id pltest >/dev/null 2>&1 || useradd --create-home --shell /bin/sh pltest
tmp=$(mktemp -d)
# shellcheck disable=SC2016 # expanded at exit
at_exit 'rm -rf "$tmp"'
chmod 755 "$tmp"
# what pltest runs must be reachable by it, wherever the tree was cloned:
# the binary (ASan's runtime is a system library), a suite and topologies
mkdir "$tmp/bin" "$tmp/out" "$tmp/rt"
cp "$PL" "$tmp/bin/punchlab"
cp -r "$SRC/experiments" "$SRC/topologies" "$tmp/"
chown pltest: "$tmp/out" "$tmp/rt"
chmod 700 "$tmp/rt"
U="$tmp/bin/punchlab"
RT="$tmp/rt" # the user's runtime directory for this test only
tag="rl$$"

# as pltest, with the test's runtime directory
user() {
	setpriv --reuid=pltest --regid=pltest --clear-groups \
		env HOME=/tmp PUNCHLAB_RUNTIME_DIR="$RT" ASAN_OPTIONS="${ASAN_OPTIONS:-}" "$@"
}
keeper_pids() {
	pgrep -f "^punchlab keeper $RT\$" || true
}
cleanup_all() {
	user "$U" cleanup --force >/dev/null 2>&1 || true
	for p in $(keeper_pids); do kill -KILL "$p"; done
	"$PL" cleanup "$tag-root" >/dev/null 2>&1 || true
}
at_exit 'cleanup_all'

check "pltest brings a lab up" user "$U" topo up --name "$tag" "$tmp/topologies/two-nats.json"
check "its state is under the runtime directory" test -f "$RT/labs/$tag/state.json"
check "its namespaces' handles too" test -e "$RT/netns/pl-$tag-peer-a"
check_absent "nothing of it under /run/punchlab" "^$tag\$" entries /run/punchlab
check_absent "nothing of it under /run/netns" "^pl-$tag-" entries /run/netns
check "one keeper holds its namespaces" test "$(keeper_pids | wc -l)" = 1
lists_lab() { user "$U" topo ls | grep -q "^$tag "; }
node_addr() { user "$U" topo exec "$tag" peer-a ip -br addr | grep -q '198.19.1.2/24'; }
check "topo ls as pltest lists it" lists_lab
check "topo exec joins it: the node's address" node_addr
check "topo show" user "$U" topo show "$tag"
check "a second lab beside it" user "$U" topo up --name "$tag-2" "$tmp/topologies/one-nat.json"
check "topo down takes the second down" user "$U" topo down "$tag-2"
check "the second's handles are gone" test -z "$(ls "$RT/netns" | grep "^pl-$tag-2-" || true)"
check "the first still answers" node_addr
check_absent "root's topo ls does not list it" "^$tag " "$PL" topo ls
# a lab of root's that the user's cleanup must not touch
check "root brings a lab up" "$PL" topo up --name "$tag-root" "$SRC/topologies/one-nat.json"
check "pltest's cleanup --force" user "$U" cleanup --force
check "root's lab is still there" test -f "/run/punchlab/$tag-root/state.json"
check "pltest's lab is gone" test ! -e "$RT/labs/$tag"
check "no namespace handle of it is left" test -z "$(ls -A "$RT/netns")"
check "the keeper ended with the last lab" test -z "$(keeper_pids)"
check "root's lab comes down" "$PL" topo down "$tag-root"

# root's cleanup goes through every user's labs and says whose
check "pltest brings a lab up again" user "$U" topo up --name "$tag" "$tmp/topologies/one-nat.json"
root_sweep() { "$PL" cleanup "$tag" | grep -qx "removed $tag (user pltest)"; }
check "root's cleanup removes it, naming the user" root_sweep
check "its state is gone" test ! -e "$RT/labs/$tag"
check "and the keeper with it" test -z "$(keeper_pids)"

# the smoke suite as root and as pltest: the same cells
check "smoke as root" "$PL" run "$tmp/experiments/smoke.json" -o "$tmp/root"
check "smoke as pltest" user "$U" run "$tmp/experiments/smoke.json" -o "$tmp/out"
check "pltest's results say rootless" python3 -c "
import glob, json, sys
md = json.load(open(glob.glob('$tmp/out/smoke-*.json')[0]))['metadata']
sys.exit(0 if md.get('rootless') is True else 1)"
check "root's do not" python3 -c "
import glob, json, sys
md = json.load(open(glob.glob('$tmp/root/smoke-*.json')[0]))['metadata']
sys.exit(0 if 'rootless' not in md else 1)"
same_cells() {
	"$PL" diff "$tmp"/root/smoke-*.json "$tmp"/out/smoke-*.json |
		grep -q '^0 worse, 0 missing from NEW, 0 better, 3 without'
}
check "punchlab diff finds them equal" same_cells
check "no lab and no keeper after the run" test -z "$(ls -A "$RT/labs")$(keeper_pids)"

# a run killed midway: the user's cleanup removes what it left
# not through user(): $! must be punchlab's own pid, not a subshell's
setpriv --reuid=pltest --regid=pltest --clear-groups env PUNCHLAB_RUNTIME_DIR="$RT" \
	"$U" run "$tmp/experiments/smoke.json" --trials 200 -o "$tmp/out" >/dev/null 2>&1 &
pid=$!
i=0
while [ -z "$(ls -A "$RT/labs" 2>/dev/null)" ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
sleep 0.3
kill -KILL "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
check "the killed run left a lab" test -n "$(ls -A "$RT/labs")"
check "pltest's cleanup removes it" user "$U" cleanup
check "nothing left: no state, no handle, no keeper" test -z "$(ls -A "$RT/labs")$(ls -A "$RT/netns")$(keeper_pids)"
check_absent "no process of the lab left" "delayq" ps -u pltest -o args=

# classify in a rootless lab: the conformance test of two presets (one with
# REQ-4's NFQUEUE hold), run as pltest from copies it can read
mkdir -p "$tmp/tests/root"
cp "$SRC/tests/tap.sh" "$tmp/tests/"
cp "$SRC/tests/root/conformance.sh" "$tmp/tests/root/"
conformance() {
	user PRESETS="home-2009 rfc5382" sh "$tmp/tests/root/conformance.sh" "$U" "$tmp" > "$tmp/conf.tap"
	grep -q '^ok 4 ' "$tmp/conf.tap" && ! grep -q '^not ok' "$tmp/conf.tap"
}
check "classify measures what the NATs declare, rootless" conformance

# a runtime directory another user could change is refused
mkdir -m 777 "$tmp/open"
check_refused 1 "a world-writable runtime directory is refused" "refusing a runtime directory" \
	setpriv --reuid=pltest --regid=pltest --clear-groups env PUNCHLAB_RUNTIME_DIR="$tmp/open" "$U" topo ls
# a kernel that refuses user namespaces: a user namespace of our own whose
# limit for nested ones is 0 (the root namespace's limit is not touched)
check_refused 1 "no user namespace: the error names the sysctl" "user.max_user_namespaces (here 0" \
	unshare --user --map-root-user sh -c "echo 0 > /proc/sys/user/max_user_namespaces && PUNCHLAB_ROOTLESS=1 PUNCHLAB_RUNTIME_DIR='$tmp/rt0' exec '$U' topo ls"
