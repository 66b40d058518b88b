#!/bin/sh
# SPDX-License-Identifier: MIT
# Plots, the timeline and the report as files (issue 17): every plot kind of
# every reference run in SVG, PDF and PNG (pdfinfo reads the PDF, the PNG has
# its magic and twice the SVG's size), the timeline of a failed trial names
# the packet and marks its row, the report is one page that names no other
# file, and both -o commands keep util/outfile's refusals. What the report
# does in a browser is tests/browser.sh.
set -eu
PL=$1 SRC=$2
. "$SRC/tests/tap.sh"
ref=$SRC/results/reference
lad=$SRC/tests/data/results/ladder.json
skew=$SRC/tests/data/results/fixture-skew.json
full=${OUTPUTS_DEV:-/dev}/full
tmp=$(mktemp -d)
# shellcheck disable=SC2016 # expanded at exit
at_exit 'rm -rf "$tmp"'

# FILE.svg FILE.pdf FILE.png of one plot: each is what its name says
three() { # NAME RESULTS [PLOT ARGS...]
	name=$1 res=$2
	shift 2
	for ext in svg pdf png; do
		"$PL" plot "$res" -o "$tmp/$name.$ext" "$@"
	done
	python3 - "$tmp/$name" <<'PY'
import struct, sys, xml.etree.ElementTree as E
base = sys.argv[1]
svg = E.parse(base + ".svg").getroot()
assert svg.tag == "{http://www.w3.org/2000/svg}svg", svg.tag
w, h = (float(svg.get(a).removesuffix("px")) for a in ("width", "height"))
png = open(base + ".png", "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n", "no PNG magic"
pw, ph = struct.unpack(">II", png[16:24])
assert (pw, ph) == (2 * w, 2 * h), ("png", pw, ph, "svg", w, h)
assert png[:1] and open(base + ".pdf", "rb").read(5) == b"%PDF-", "no PDF header"
PY
	pdfinfo "$tmp/$name.pdf" > "$tmp/$name.info"
	grep -q '^Pages: *1$' "$tmp/$name.info"
	grep -q '^Page size: *[0-9.]* x [0-9.]* pts' "$tmp/$name.info"
}
# the row marked in the timeline is the packet the sentence names
timeline_names() { # RESULTS CELL/TRIAL FLAGS SRC
	"$PL" timeline "$1" "$2" > "$tmp/tl.txt"
	row=$(grep '<== why it failed' "$tmp/tl.txt")
	echo "$row" | grep -q " $3 *$4 *> "
	grep "^why: " "$tmp/tl.txt" | grep -q "$3 from $4"
	grep -q '^A: predicted port [0-9]*' "$tmp/tl.txt"
	grep -q '^B: predicted port [0-9]*' "$tmp/tl.txt"
}
# one page: parses, its figures are data: URLs, nothing names another file
one_page() { # HTML CELLS
	python3 - "$1" "$2" <<'PY'
import re, sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.urls = []; self.imgs = 0; self.rows = 0; self.tbody = False; self.cells = 0
    def handle_starttag(self, t, a):
        a = dict(a)
        for k in ("src", "href", "action", "data"):
            if k in a and not (a[k].startswith("#") or a[k].startswith("data:")):
                self.urls.append((t, k, a[k]))
        if t == "img": self.imgs += 1
        if t == "tbody": self.tbody = True
        if t == "tr" and self.tbody: self.rows += 1
        if t == "details" and a.get("class") == "cell": self.cells += 1
    def handle_endtag(self, t):
        if t == "tbody": self.tbody = False
text = open(sys.argv[1], encoding="utf-8").read()
p = P(); p.feed(text); p.close()
assert not p.urls, p.urls
assert p.imgs >= 1, "no figure"
assert p.cells == int(sys.argv[2]), p.cells
assert not re.search(r"url\(|@import|https?://(?!www\.w3\.org/)", text), re.search(r"url\(|@import|https?://(?!www\.w3\.org/)", text)
PY
}
is_chardev() { test -c "$1"; }
lists_trials() { # RESULTS CELL N: N lines of failed trials
	"$PL" timeline "$1" "$2" > "$tmp/list.txt"
	[ "$(grep -c '^ *[0-9]  failed: mispredicted' "$tmp/list.txt")" = "$3" ]
}
says_empty() { # RESULTS HTML
	"$PL" report "$1" -o "$2"
	grep -q "No cell has a trial" "$2"
}

plan 17

for r in paper-fig2-20261125T230516Z paper-table1-20261125T230516Z paper-table1-busy-20261125T230608Z; do
	check "plot heatmap of $r in SVG, PDF (pdfinfo: 1 page) and PNG (2x)" three "$r" "$ref/$r.json"
done
check "plot heatmap --rows nat --cols os_a of the fixture, three formats" \
	three fixture "$SRC/tests/data/results/fixture.json" --rows nat --cols os_a
check "plot curve with Wilson bars, three formats" three curve "$skew" --kind curve --x skew_ms
check_refused 2 "plot -o FILE.jpg is refused: the format is the name's" \
	"the name must end in .svg, .pdf or .png" "$PL" plot "$lad" -o "$tmp/x.jpg"
check_refused 2 "plot --rows colour is refused with the known fields" \
	"colour: unknown field (known: topology" "$PL" plot "$lad" -o "$tmp/x.svg" --rows colour --cols os_a

check "timeline of a misprediction marks the RST that answered the wrong port" \
	timeline_names "$lad" aa27/5 RST-ACK 198.18.0.2:2544
check "timeline without /TRIAL lists every trial of the cell" lists_trials "$lad" 9f98 2
check_refused 1 "timeline of a missing trial says so" "cell 9f98db9cff64 has no trial 7" \
	"$PL" timeline "$lad" 9f98db9cff64/7
check_refused 1 "timeline of an unknown cell lists the cells" "no cell ffff (or more than one starts so); aa2730001c5a" \
	"$PL" timeline "$lad" ffff

"$PL" report "$lad" -o "$tmp/report.html"
check "report: one page, figures inline, a cell section per cell, no other file named" \
	one_page "$tmp/report.html" 3
"$PL" report "$ref/paper-fig2-20261125T230516Z.json" -o "$tmp/fig2.html"
check "report of the fig2 reference: the same" one_page "$tmp/fig2.html" 5

# a run that ended before its first trial still gets a page
python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); r["cells"] = []; r["trials_count"] = 0
open(sys.argv[2], "w").write(json.dumps(r)); open(sys.argv[3], "w").write(open(sys.argv[4]).readline())' \
	"$lad" "$tmp/empty.json" "$tmp/empty.trials.ndjson" "$SRC/tests/data/results/ladder.trials.ndjson"
sed -i 's/"trials_file": "ladder.trials.ndjson"/"trials_file": "empty.trials.ndjson"/' "$tmp/empty.json"
check "report of a run without cells is a page that says so" \
	says_empty "$tmp/empty.json" "$tmp/empty.html"
check_refused 1 "report -o /dev/full is refused" "refusing to replace a character device" \
	"$PL" report "$lad" -o "$full"
check "/dev/full is still a character device" is_chardev "$full"
mkdir "$tmp/link"
ln -s /etc/hostname "$tmp/link/r.html"
check_refused 1 "report -o a symlink is refused" "refusing to replace a symbolic link" \
	"$PL" report "$lad" -o "$tmp/link/r.html"
