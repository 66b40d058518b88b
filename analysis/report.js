// SPDX-License-Identifier: MIT
// punchlab report: inlined into the page by analysis/embed.py. The trials of
// a cell are JSON in a script element of type application/json (id L-CELL),
// parsed when the cell is opened; a trial's ladder is drawn (SVG) when the
// trial is.
"use strict";
(function () {
	const PAGE = 50;
	const SVGNS = "http://www.w3.org/2000/svg";
	const COLOURS = { "SYN": "#0072b2", "SYN-ACK": "#009e73", "RST": "#d55e00",
			  "RST-ACK": "#d55e00", "ACK": "#555555" };
	const parsed = new Map();

	function el(tag, attrs, text) {
		const e = document.createElement(tag);
		for (const k in attrs || {})
			e.setAttribute(k, attrs[k]);
		if (text !== undefined)
			e.textContent = text;
		return e;
	}
	function sv(tag, attrs, text) {
		const e = document.createElementNS(SVGNS, tag);
		for (const k in attrs || {})
			e.setAttribute(k, attrs[k]);
		if (text !== undefined)
			e.textContent = text;
		return e;
	}
	function ladders(cell) {
		if (!parsed.has(cell)) {
			const s = document.getElementById("L-" + cell);
			parsed.set(cell, s ? JSON.parse(s.textContent) : []);
		}
		return parsed.get(cell);
	}
	// the column that saw packet P first, and when
	function first(p) {
		let best = -1;
		p[3].forEach((t, i) => {
			if (t !== null && (best < 0 || t < p[3][best]))
				best = i;
		});
		return best;
	}
	function packetName(t, p) {
		const f = first(p);
		return p[0] + " " + p[1] + " \u2192 " + p[2] + " at " + t.cols[f] + ", " +
		       p[3][f].toFixed(3) + " ms";
	}
	function arrow(svg, x0, y0, x1, y1, colour) {
		svg.appendChild(sv("line", { x1: x0, y1: y0, x2: x1, y2: y1, stroke: colour,
					     "stroke-width": 1.6 }));
		const a = Math.atan2(y1 - y0, x1 - x0), h = 7;
		const pts = [[x1, y1], [x1 - h * Math.cos(a - 0.4), y1 - h * Math.sin(a - 0.4)],
			     [x1 - h * Math.cos(a + 0.4), y1 - h * Math.sin(a + 0.4)]];
		svg.appendChild(sv("polygon", { points: pts.map(q => q.join(",")).join(" "),
						fill: colour }));
	}
	function drawRow(svg, t, p, r, geo) {
		const y = geo.top + r * geo.row + geo.row / 2, f = first(p);
		const g = sv("g", { class: r === t.c ? "pkt culprit" : "pkt" });
		svg.appendChild(g);
		if (r === t.c)
			g.appendChild(sv("rect", { class: "hl", x: 0, y: y - geo.row / 2,
						   width: geo.width, height: geo.row }));
		const colour = COLOURS[p[0]] || "#333333";
		g.appendChild(sv("text", { x: 4, y: y + 4 }, p[3][f].toFixed(3).padStart(9, " ") +
				 "  " + p[0].padEnd(7, " ") + " " + p[1] + " \u2192 " + p[2]));
		const x0 = geo.left + geo.col * f + geo.col / 2;
		let others = 0;
		p[3].forEach((at, i) => {
			if (at === null || i === f)
				return;
			others++;
			const xi = geo.left + geo.col * i + geo.col / 2;
			arrow(g, x0, y - 6, xi, y + 6, colour);
			g.appendChild(sv("text", { x: xi + (xi > x0 ? 4 : -60), y: y - 2 },
					 "+" + (at - p[3][f]).toFixed(3)));
		});
		if (!others) // seen at one point only: a stub
			arrow(g, x0, y, x0 + 34, y, colour);
		g.appendChild(sv("circle", { cx: x0, cy: others ? y - 6 : y, r: 3, fill: colour }));
		if (r === t.c)
			g.appendChild(sv("text", { class: "mark", x: geo.left + geo.col * t.cols.length + 8,
						   y: y + 4 }, "\u25c0 why it failed"));
	}
	function drawLadder(t) {
		const geo = { left: 400, col: 130, row: 22, top: 34 };
		geo.width = geo.left + geo.col * Math.max(t.cols.length, 1) + 130;
		const h = geo.top + Math.max(t.p.length, 1) * geo.row + 12;
		const svg = sv("svg", { class: "ladder", width: geo.width, height: h, role: "img",
					viewBox: "0 0 " + geo.width + " " + h });
		svg.appendChild(sv("title", {}, "trial " + t.t + ": " + t.v));
		svg.appendChild(sv("text", { x: 4, y: 18 }, "       ms  packet"));
		t.cols.forEach((c, i) => {
			const x = geo.left + geo.col * i + geo.col / 2;
			svg.appendChild(sv("line", { class: "axis", x1: x, y1: 24, x2: x, y2: h - 4 }));
			svg.appendChild(sv("text", { class: "col", x: x, y: 18, "text-anchor": "middle" }, c));
		});
		t.p.forEach((p, r) => drawRow(svg, t, p, r, geo));
		if (!t.p.length)
			svg.appendChild(sv("text", { x: 4, y: geo.top + 14 }, "(no packet of the punch captured)"));
		return svg;
	}
	function trialBody(t) {
		const box = el("div", { class: "trialbody" });
		const ul = el("ul", { class: "peers" });
		t.peers.forEach((p, i) => {
			const role = "AB"[i], other = "BA"[i];
			let s = role + ": predicted port " + (p.pred < 0 ? "unknown" : p.pred + " (" +
				other + " aimed at " + t.peers[1 - i].remote + ")") + ", actual " +
				(p.act < 0 ? "not captured" : p.act + " (its last SYN as it left " + p.nat + ")");
			if (p.act >= 0 && p.pred >= 0)
				s += p.act === p.pred ? ": hit" : ": MISS";
			ul.appendChild(el("li", {}, s));
		});
		box.appendChild(ul);
		if (!t.ok)
			box.appendChild(el("p", { class: "why" }, "why: " + t.why));
		if (t.c >= 0)
			box.appendChild(el("p", { class: "culprit-name" },
					   "the packet: " + packetName(t, t.p[t.c])));
		box.appendChild(drawLadder(t));
		const key = el("p", { class: "note key" }, "each packet from where it was seen first (\u25cf) to " +
			       "where it was seen next, +ms later: ");
		["SYN", "SYN-ACK", "RST"].forEach(k => key.appendChild(el("span", { style: "color:" +
			COLOURS[k] }, k)));
		box.appendChild(key);
		if (t.probes)
			box.appendChild(el("p", { class: "note" }, t.probes +
					   " packets to or from S (" + t.server + ") not drawn"));
		return box;
	}
	function draw(d, t) {
		if (!d.dataset.drawn) {
			d.dataset.drawn = "1";
			d.appendChild(trialBody(t));
		}
	}
	function trialItem(cell, t) {
		const d = el("details", { class: "trial " + (t.ok ? "ok" : "failed"),
					  id: "t-" + cell + "-" + t.t });
		d.appendChild(el("summary", {}, "trial " + t.t + ": " + t.v));
		d.addEventListener("toggle", () => { if (d.open) draw(d, t); });
		return d;
	}
	function fillCell(det) {
		const cell = det.dataset.cell, box = det.querySelector(".trials");
		if (box.dataset.filled)
			return;
		box.dataset.filled = "1";
		const all = ladders(cell);
		const nfail = all.filter(t => !t.ok).length;
		const controls = el("div", { class: "controls" });
		const cb = el("input", { type: "checkbox" });
		const label = el("label", {});
		label.append(cb, " failed only (" + nfail + ")");
		const count = el("span", {}), list = el("div", { class: "list" });
		const more = el("button", { type: "button" }, "show " + PAGE + " more");
		controls.append(label, count);
		box.append(controls, list, more);
		let shown = 0, items = all;
		function page() {
			items.slice(shown, shown + PAGE).forEach(t => list.appendChild(trialItem(cell, t)));
			shown = Math.min(items.length, shown + PAGE);
			more.hidden = shown >= items.length;
			count.textContent = shown + " of " + items.length + " trials listed";
		}
		cb.addEventListener("change", () => {
			list.textContent = "";
			shown = 0;
			items = cb.checked ? all.filter(t => !t.ok) : all;
			page();
		});
		more.addEventListener("click", page);
		page();
	}
	// #t-CELL-TRIAL opens that trial (drawn at once, not on the toggle event)
	function openHash() {
		const m = /^#t-([0-9a-z]+)-(\d+)$/.exec(location.hash);
		if (!m)
			return;
		const det = document.querySelector('details.cell[data-cell="' + m[1] + '"]');
		const t = det ? ladders(m[1]).find(x => String(x.t) === m[2]) : undefined;
		if (!t)
			return;
		det.open = true;
		fillCell(det);
		let d = document.getElementById("t-" + m[1] + "-" + m[2]);
		if (!d) { // beyond the first page
			d = trialItem(m[1], t);
			det.querySelector(".list").prepend(d);
		}
		d.open = true;
		draw(d, t);
		d.scrollIntoView();
	}
	function init() {
		document.querySelectorAll("details.cell").forEach(det =>
			det.addEventListener("toggle", () => { if (det.open) fillCell(det); }));
		openHash();
		window.addEventListener("hashchange", openHash);
		document.body.dataset.ready = "1";
	}
	window.addEventListener("load", () => {
		const imgs = Array.from(document.querySelectorAll("img.fig"));
		document.body.dataset.figures =
			String(imgs.filter(i => i.complete && i.naturalWidth > 0).length);
		// from navigation to the load event, for bench/report-scale
		document.body.dataset.loadms = String(Math.round(performance.now()));
	});
	init();
})();
