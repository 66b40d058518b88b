#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs what punchlab needs to build, test and run, from Debian 12's archive.
# Only packages that are missing are installed; nothing else on the machine changes,
# but for what Debian's packages do when installed: munge makes a key and starts
# munged (tests/root/slurm.sh then uses it); slurmctld and slurmd stay down with
# no /etc/slurm/slurm.conf (the test runs its own, in a temporary directory).
set -eu

PACKAGES="gcc libc6-dev git pkg-config meson ninja-build
libpcap-dev libjansson-dev zlib1g-dev libnl-3-dev libnl-route-3-dev libnftables-dev
libcriterion-dev iptables nftables iproute2 python3-jsonschema
clang libclang-rt-14-dev valgrind python3 strace socat procps util-linux passwd
libcairo2-dev libpango1.0-dev fonts-dejavu-core poppler-utils chromium
slurmctld slurmd slurm-client munge"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing packages:$missing; run as root to install them" >&2
		exit 1
	fi
	echo "deps: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
