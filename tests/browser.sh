#!/bin/sh
# SPDX-License-Identifier: MIT
# The report as a person sees it (issue 17): opened in headless Chromium
# (Debian's chromium), with its DOM dumped after the page's script ran. No
# console message (an error, a CSP violation), no network request (Chromium
# goes through --proxy-server, a listener of ours that logs every request),
# the table and every figure present and loaded, and the ladder of a failed
# trial, opened by #t-CELL-TRIAL, names the packet `punchlab timeline` marks.
# Two planted pages first show that the console check and the listener each
# catch what they are for.
set -eu
PL=$1 SRC=$2
. "$SRC/tests/tap.sh"
command -v chromium > /dev/null || skip_all "chromium is not installed (scripts/deps.sh)"
lad=$SRC/tests/data/results/ladder.json
fig2=$SRC/results/reference/paper-fig2-20261125T230516Z.json
tmp=$(mktemp -d)
# shellcheck disable=SC2016 # expanded at exit
at_exit 'rm -rf "$tmp"'

# the listener: one line per request (its request line) in $tmp/requests
python3 - "$tmp/port" "$tmp/requests" <<'PY' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
while True:
    c, _ = s.accept()
    c.settimeout(2)
    try:
        line = c.recv(4096).split(b"\r\n")[0]
    except OSError:
        line = b"(nothing read)"
    with open(sys.argv[2], "ab") as f:
        f.write(line + b"\n")
    c.close()
PY
# shellcheck disable=SC2034 # used by the at_exit code
listener=$!
# shellcheck disable=SC2016 # expanded at exit
at_exit 'kill "$listener" 2> /dev/null || true'
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ -s "$tmp/port" ] && break
	sleep 0.2
done
[ -s "$tmp/port" ] || bail "the request listener did not start"
port=$(cat "$tmp/port")
: > "$tmp/requests"

sandbox=""
[ "$(id -u)" = 0 ] && sandbox=--no-sandbox # Chromium's sandbox refuses root
# open URL: its DOM in $tmp/NAME.dom, Chromium's log in $tmp/NAME.log
open_page() { # NAME URL
	rm -rf "$tmp/profile"
	: > "$tmp/requests"
	# shellcheck disable=SC2086
	timeout 60 chromium --headless $sandbox --disable-gpu --user-data-dir="$tmp/profile" \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --no-pings --disable-domain-reliability --disable-default-apps \
		--disable-extensions --disable-client-side-phishing-detection \
		--disable-features=NetworkTimeServiceQuerying,OptimizationHints,Translate,MediaRouter \
		--proxy-server="127.0.0.1:$port" --enable-logging=stderr --v=0 \
		--dump-dom "$2" > "$tmp/$1.dom" 2> "$tmp/$1.log"
	sleep 0.3 # the listener writes a late request's line
	cp "$tmp/requests" "$tmp/$1.requests"
}
# no console message at all: errors, warnings, CSP violations, uncaught exceptions
no_console() { # NAME
	if grep ':CONSOLE' "$tmp/$1.log"; then
		return 1
	fi
}
console_has() { # NAME TEXT
	grep ':CONSOLE' "$tmp/$1.log" | grep -qF "$2"
}
# Chromium's own services (its updater, the account and time services) are
# not the page's: every other request fails the check, with its line shown
page_requests() { # NAME
	grep -vE '^(CONNECT |POST http://|GET http://)(update\.googleapis\.com|accounts\.google\.com|clients2\.google\.com|redirector\.gvt1\.com|edgedl\.me\.gvt1\.com)[:/ ]' \
		"$tmp/$1.requests" || true
}
no_requests() { # NAME
	r=$(page_requests "$1")
	[ -z "$r" ] || { echo "$r"; return 1; }
}
request_seen() { # NAME TEXT
	page_requests "$1" | grep -qF "$2"
}
# the table and every figure: N cells in the table, every img.fig loaded
dom_complete() { # NAME CELLS
	python3 - "$tmp/$1.dom" "$2" <<'PY'
import re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
assert 'data-ready="1"' in dom, "the page's script did not finish"
body = re.search(r'<table class="summary">.*?<tbody>(.*?)</tbody>', dom, re.S)
assert body and body.group(1).count("<tr") == int(sys.argv[2]), "table rows"
figs = len(re.findall(r'<img class="fig"', dom))
loaded = re.search(r'data-figures="(\d+)"', dom)
assert figs >= 1 and loaded and int(loaded.group(1)) == figs, (figs, loaded and loaded.group(1))
assert dom.count('<details class="cell"') == int(sys.argv[2]), "a section per cell"
PY
}
# the opened trial's ladder is drawn, its culprit row marked, and the
# packet it names is the one the timeline marks
names_culprit() { # NAME RESULTS CELL TRIAL
	"$PL" timeline "$2" "$3/$4" > "$tmp/tl.txt"
	row=$(grep '<== why it failed' "$tmp/tl.txt")
	# shellcheck disable=SC2086 # the row's words, one argument each
	set -- "$@" $row
	# $5 ms, $6 flags, $7 src, $8 ">", $9 dst
	python3 - "$tmp/$1.dom" "$3" "$4" "$6" "$7" "$9" "$5" <<'PY'
import html, re, sys
path, cell, trial, flags, src, dst, ms = sys.argv[1:]
dom = open(path, encoding="utf-8").read()
open_trial = re.search(r'<details class="trial failed" id="t-%s-%s" open="".*?</details>' % (cell, trial), dom, re.S)
assert open_trial, "the trial is not open"
t = html.unescape(open_trial.group(0))
name = re.search(r'class="culprit-name">the packet: ([^<]*)<', t)
want = "%s %s \u2192 %s" % (flags, src, dst)
assert name and name.group(1).startswith(want), (name and name.group(1), want)
assert ms in name.group(1), (name.group(1), ms)
assert '<svg class="ladder"' in t, "no ladder"
g = re.search(r'<g class="pkt culprit">(.*?)</g>', t, re.S)
assert g and want in g.group(1) and "why it failed" in g.group(1), "the culprit row"
PY
}
# a verdict sentence for a trial with no punch packet captured
says() { # NAME TEXT
	grep -qF "$2" "$tmp/$1.dom"
}

plan 11

printf '%s\n' '<!DOCTYPE html><html><body><script>console.error("planted error")</script>' \
	'<img src="http://192.0.2.7/planted.png"></body></html>' > "$tmp/planted.html"
open_page planted "file://$tmp/planted.html"
check "the console check catches a planted console.error" console_has planted "planted error"
check "the listener catches a planted image's request" request_seen planted "192.0.2.7/planted.png"

"$PL" report "$lad" -o "$tmp/report.html"
open_page report "file://$tmp/report.html#t-aa2730001c5a-5"
check "report: no console message" no_console report
check "report: no network request" no_requests report
check "report: the table (3 cells) and every figure, loaded" dom_complete report 3
check "report: the ladder of failed trial aa27/5 names the packet timeline marks" \
	names_culprit report "$lad" aa2730001c5a 5
open_page report2 "file://$tmp/report.html#t-9f98db9cff64-1"
check "report: the same for linux-2.6 x windows-xp (9f98/1)" \
	names_culprit report2 "$lad" 9f98db9cff64 1

"$PL" report "$fig2" -o "$tmp/fig2.html"
open_page fig2 "file://$tmp/fig2.html#t-958dc0f5012e-7"
check "fig2 report: no console message" no_console fig2
check "fig2 report: no network request" no_requests fig2
check "fig2 report: the table (5 cells) and every figure, loaded" dom_complete fig2 5
check "fig2 report: a no-hairpin trial says no punch packet was captured, and why" \
	says fig2 "both peers are behind one NAT, which did not send them back in"
