#!/bin/sh
# SPDX-License-Identifier: MIT
# Golden files: `punchlab table` of tests/data/results/fixture.json in every
# format, layout and symbol set must equal tests/data/tables/*; the HTML
# must parse as a page whose tables have one row per fixture cell; diff,
# export, plot and predict; refusals with FILE:LINE:COL.
set -eu
PL=$1 SRC=$2
. "$SRC/tests/tap.sh"
fx=$SRC/tests/data/results/fixture.json
gold=$SRC/tests/data/tables
tmp=$(mktemp -d)
# shellcheck disable=SC2016 # expanded at exit
at_exit 'rm -rf "$tmp"'

# same_as GOLDEN CMD...: CMD exits 0 and prints exactly GOLDEN (the diff if not)
same_as() {
	g=$1
	shift
	"$@" > "$tmp/got"
	diff -u "$g" "$tmp/got"
}

# The formats punchlab writes are read here only.
html_page() { # HTML ROWS
	python3 - "$1" "$2" <<'PY'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.stack = []; self.rows = 0; self.seen = set()
    def handle_starttag(self, t, a):
        self.seen.add(t)
        if t not in ("meta",): self.stack.append(t)
        if t == "tr" and "tbody" in self.stack: self.rows += 1
    def handle_endtag(self, t):
        assert self.stack and self.stack[-1] == t, (t, self.stack)
        self.stack.pop()
p = P(); p.feed(open(sys.argv[1]).read()); p.close()
assert not p.stack and {"html", "head", "body", "table", "caption"} <= p.seen, p.seen
assert p.rows == int(sys.argv[2]), p.rows
PY
}
export_csv() { # RESULTS
	"$PL" export "$1" --csv > "$tmp/export.csv"
	python3 - "$tmp/export.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 500, len(rows)
assert {'cell', 'trial', 'connected', 'reason', 'topology', 'hairpin', 'os_a', 'syns_crossed'} <= set(rows[0])
assert sum(r['connected'] == 'true' for r in rows) == 400
assert {r['reason'] for r in rows if r['connected'] == 'false'} == {'no-hairpin'}
PY
}
# fixture.json with its cells cut to the first KEEP (and its suite hash set to
# SHA, when given): a NEW that lost cells, or belongs to another suite
cut_cells() { # OUT KEEP [SHA]
	python3 - "$fx" "$@" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["cells"] = r["cells"][:int(sys.argv[3])]
if len(sys.argv) > 4:
    r["suite"]["sha256"] = sys.argv[4]
json.dump(r, open(sys.argv[2], "w"), indent=1)
PY
}
# SVG: a document cairo drew, of a sane size, with text set as glyphs (what
# is in its cells is checked on the scene, in tests/unit/test_figure.c)
svg_doc() { # SVG
	python3 - "$1" <<'PY'
import sys, xml.etree.ElementTree as E
t = E.parse(sys.argv[1]).getroot()
assert t.tag == "{http://www.w3.org/2000/svg}svg", t.tag
w, h = (float(t.get(a).removesuffix("px")) for a in ("width", "height"))
assert 300 <= w <= 1300 and 150 <= h <= 2000, (w, h)
assert sum(1 for e in t.iter("{http://www.w3.org/2000/svg}symbol")) > 10, "no glyphs"
PY
}
heatmap() {
	"$PL" plot "$fx" -o "$tmp/heat.svg"
	svg_doc "$tmp/heat.svg"
}
curve() {
	"$PL" plot "$SRC/tests/data/results/fixture-skew.json" -o "$tmp/curve.svg" --kind curve --x skew_ms
	svg_doc "$tmp/curve.svg"
}
latex_compiles() {
	for f in matrix-paper matrix-rate paper-paper paper-rate; do
		{ printf '\\documentclass{article}\n\\usepackage{booktabs}\n\\usepackage{amssymb}\n\\begin{document}\n'
		  cat "$gold/$f.latex"; printf '\\end{document}\n'; } > "$tmp/$f.tex"
		(cd "$tmp" && pdflatex -interaction=nonstopmode -halt-on-error "$f.tex" > "$f.out" 2>&1) \
			|| { tail -20 "$tmp/$f.out"; return 1; }
	done
}

# only the heuristics the pinned file has: a new one needs no line there;
# the default corpora, so the real-kernel one counts once it is there
predict_pinned() { # PINNED
	(cd "$SRC" && "$PL" predict) > "$tmp/predict.txt"
	awk 'NR == FNR { h[$1] = 1; next } h[$1]' "$1" "$tmp/predict.txt" | diff -u "$1" -
}

plan $((5 * 2 * 2 + 20 + 3))
for fmt in text md latex csv html; do
	for lay in paper matrix; do
		for sym in paper rate; do
			args=""
			[ $lay = paper ] || args="--rows os_a --cols os_b"
			# shellcheck disable=SC2086
			check "$lay layout, $sym symbols, $fmt is tests/data/tables/$lay-$sym.$fmt" \
				same_as "$gold/$lay-$sym.$fmt" "$PL" table "$fx" --format $fmt --symbols $sym $args
		done
	done
done
for lay in paper matrix summary; do
	check_absent "$lay layout, text: no line ends in a blank (cells without failures, empty matrix cells)" \
		' $' "$PL" table "$fx" --format text --layout $lay --rows os_a --cols os_b
done
check "the HTML is a page with one row per cell" html_page "$gold/paper-paper.html" 6
check_refused 1 "table refuses a newer results version with FILE:LINE:COL" \
	"newer.json:1:43: results format version 3 is newer" \
	"$PL" table "$SRC/tests/data/results/newer.json"

rc=0
"$PL" diff "$fx" "$SRC/tests/data/results/fixture-new.json" > "$tmp/diff.txt" 2> "$tmp/diff.err" || rc=$?
check_status 1 "diff exits 1 on a regression" "$rc" "$tmp/diff.err"
check "diff: worse, better, unchanged, only-in-one cells as in tests/data/tables/diff.txt" \
	diff -u "$gold/diff.txt" "$tmp/diff.txt"
check "diff of a file with itself exits 0" "$PL" diff "$fx" "$fx"
# the gate fails when cells disappear, and when nothing was compared
cut_cells "$tmp/fewer.json" 5
cut_cells "$tmp/none.json" 0
cut_cells "$tmp/other-suite.json" 6 1111111111111111111111111111111111111111111111111111111111111111
check_rc 1 "diff: a cell of OLD missing from NEW is a regression" \
	"$PL" diff "$fx" "$tmp/fewer.json"
check "diff --allow-missing: a NEW without some cells of OLD passes" \
	"$PL" diff "$fx" "$tmp/fewer.json" --allow-missing
check_rc 1 "diff: a NEW without cells fails, also with --allow-missing" \
	"$PL" diff "$fx" "$tmp/none.json" --allow-missing
check_refused 1 "diff refuses a NEW of another suite (suite.sha256)" \
	"other-suite.json: a run of another suite than fixture.json (suite.sha256 111111111111, not 000000000000)" \
	"$PL" diff "$fx" "$tmp/other-suite.json"
check "diff --any-suite compares a NEW of another suite by cell id" \
	"$PL" diff "$fx" "$tmp/other-suite.json" --any-suite
check_refused 2 "diff refuses --alpha nan" "--alpha is between 0 and 1" \
	"$PL" diff "$fx" "$fx" --alpha nan

check "export --csv: one row per trial, the cell's fields as columns" \
	export_csv "$SRC/results/reference/paper-fig2-20261125T230516Z.json"
check "plot heatmap: an SVG document cairo drew" heatmap
check "plot curve: an SVG document cairo drew" curve
check_refused 1 "plot curve refuses a non-numeric axis" \
	'skew_ms: cell aaaaaaaaaaa1 has no numeric "skew_ms"' \
	"$PL" plot "$fx" -o "$tmp/bad.svg" --kind curve --x skew_ms

check "predict: the heuristics' figures on the shipped trace corpus are the pinned ones (tests/data/predict/os-by-nat.txt; update it if on purpose)" \
	predict_pinned "$SRC/tests/data/predict/os-by-nat.txt"
check_refused 1 "a malformed trace file gets FILE:LINE:COL" \
	"bad-trace.txt:3:1: expected SOURCE: PORT PORT" \
	"$PL" predict "$SRC/tests/data/predict/bad-trace.txt"
# what the trace reader refuses, the results path refuses too: never wrapped
check_refused 1 "predict refuses a port over 65535 in ports_seen with FILE:LINE" \
	'ports-wrap.trials.ndjson:3:1: "ports_seen": expected a port (1 to 65535)' \
	"$PL" predict "$SRC/tests/data/results/ports-wrap.json"
check_refused 1 "predict refuses a punch port over 65535 with FILE:LINE" \
	'ports-local.trials.ndjson:3:1: "local": "10.0.0.3:65536" does not end in a port' \
	"$PL" predict "$SRC/tests/data/results/ports-local.json"

if command -v pdflatex >/dev/null; then
	check "the LaTeX tables compile (pdflatex, booktabs, amssymb)" latex_compiles
else
	skip "the LaTeX tables compile" "pdflatex is not installed (texlive-latex-recommended)"
fi
