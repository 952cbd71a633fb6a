"""The report's stylesheet and scripts, inlined into the page (no CDN, works offline).

Colours come from the Okabe-Ito palette, which stays distinguishable with
the common colour-vision deficiencies; every outcome also carries a symbol
and a word, and every chart mark a shape, so nothing depends on colour alone.
Text colours keep at least 4.5:1 contrast on their backgrounds.
"""

from __future__ import annotations

CSS = """
:root {
  --ink: #1b1f24; --muted: #4d5661; --line: #d5dae0; --paper: #ffffff; --panel: #f5f7f9;
  --blue: #0072b2; --sky: #56b4e9; --vermillion: #d55e00; --vermillion-ink: #9c3d00;
  --green: #009e73; --green-ink: #00664a; --orange: #e69f00; --orange-ink: #7a5300;
  --purple: #7b3294; --grey: #59636e;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; color: var(--ink); background: var(--paper);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
}
main, header.page { max-width: 1240px; margin: 0 auto; padding: 0 16px; }
header.page { padding-top: 18px; padding-bottom: 6px; }
h1 { font-size: 1.5rem; margin: 0 0 6px; display: flex; flex-wrap: wrap; gap: 8px 12px;
  align-items: center; }
h2 { font-size: 1.2rem; margin: 28px 0 10px; padding-bottom: 4px;
  border-bottom: 2px solid var(--line); }
h3 { font-size: 1.02rem; margin: 20px 0 8px; }
code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
  font-size: 0.88em; }
a { color: #005a8c; }
.status { font-size: 0.95rem; font-weight: 700; padding: 2px 10px; border-radius: 999px;
  border: 2px solid currentColor; white-space: nowrap; }
.status.failed { color: var(--vermillion-ink); background: #fdebe0; }
.status.passed { color: var(--green-ink); background: #e3f4ee; }
.status.error { color: var(--orange-ink); background: #fff3d6; }
.tally { margin: 0 0 10px; font-size: 1.02rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0;
  font-size: 0.92rem; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
nav.toc { display: flex; flex-wrap: wrap; gap: 6px 16px; margin: 12px 0 0; font-size: 0.95rem; }
.notice { border-left: 4px solid var(--orange); background: #fff8e6; padding: 8px 12px;
  margin: 10px 0; }

/* verdict badges: symbol + word + colour */
.badge { display: inline-block; padding: 1px 8px; border-radius: 4px; font-weight: 600;
  font-size: 0.85rem; white-space: nowrap; border: 1px solid transparent; }
.o-regression, .o-budget, .o-missing { color: var(--vermillion-ink); background: #fdebe0;
  border-color: #f0b48c; }
.o-noisy { color: var(--orange-ink); background: #fff3d6; border-color: #f1cf7a; }
.o-acknowledged { color: #5a2570; background: #f3e8f7; border-color: #d4b3e0; }
.o-new { color: #004e7a; background: #e3f0f8; border-color: #9cc8e4; }
.o-improvement, .o-pass { color: var(--green-ink); background: #e3f4ee; border-color: #9fd8c6; }

/* filters */
.filters { display: flex; flex-wrap: wrap; gap: 8px 10px; align-items: center; margin: 6px 0 10px; }
.filters input[type=search] { font: inherit; padding: 5px 8px; border: 1px solid #8a939d;
  border-radius: 4px; min-width: 14em; flex: 1 1 14em; max-width: 28em; }
.filters label.chip { display: inline-flex; gap: 4px; align-items: center; cursor: pointer; }
.filters button { font: inherit; padding: 4px 10px; border: 1px solid #8a939d; border-radius: 4px;
  background: var(--panel); cursor: pointer; }
.filters :focus-visible, a:focus-visible, summary:focus-visible { outline: 3px solid var(--blue);
  outline-offset: 2px; }
#verdict-count { color: var(--muted); font-size: 0.9rem; }

/* the verdict table */
table { border-collapse: collapse; width: 100%; }
table.verdicts { font-size: 0.92rem; }
table.verdicts th { text-align: left; font-weight: 600; color: var(--muted);
  border-bottom: 2px solid var(--line); padding: 6px 8px; }
table.verdicts td { padding: 6px 8px; vertical-align: top; }
table.verdicts tbody { border-bottom: 1px solid var(--line); }
table.verdicts td.num { text-align: right; white-space: nowrap;
  font-variant-numeric: tabular-nums; }
table.verdicts .metric { overflow-wrap: anywhere; }
table.verdicts .check { color: var(--muted); }
tbody.verdict.failing { background: #fffaf6; }
tr.evidence-row td { padding-top: 0; }
.reason { margin: 0 0 4px; }
.facts { margin: 4px 0; color: var(--muted); font-size: 0.88rem; }
.facts span + span::before { content: " · "; }
pre.evidence { background: var(--panel); border: 1px solid var(--line);
  border-left: 4px solid #8a939d; padding: 6px 10px; margin: 4px 0; overflow-x: auto;
  white-space: pre-wrap; overflow-wrap: anywhere; }
pre.evidence.plan { border-left-color: var(--vermillion); }
pre.evidence.sql { border-left-color: var(--blue); }
.evidence-label { font-size: 0.8rem; font-weight: 600; color: var(--muted);
  text-transform: uppercase; letter-spacing: 0.04em; }
details > summary { cursor: pointer; color: #005a8c; }
details.why { display: inline; margin-left: 6px; font-size: 0.88rem; }
details.why > summary { display: inline; }
details.why[open] { display: block; margin: 4px 0 0; }
.hidden { display: none !important; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }

/* charts */
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 14px; }
figure.card { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px;
  background: var(--paper); min-width: 0; }
figure.card.failing { border: 2px solid var(--vermillion); }
figure.card figcaption { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: baseline;
  margin-bottom: 4px; }
figure.card .name { font-weight: 600; overflow-wrap: anywhere; flex: 1 1 100%; }
figure.card .latest { font-variant-numeric: tabular-nums; }
svg.chart { display: block; width: 100%; height: auto; max-width: 720px; overflow: visible; }
svg.chart text { font-size: 12px; fill: var(--ink); font-family: inherit; }
svg.chart .tick { fill: var(--muted); font-size: 11.5px; }
svg.chart .axis-title { fill: var(--muted); font-size: 11.5px; font-weight: 600; }
svg.chart .grid line { stroke: #e4e8ec; stroke-width: 1; }
svg.chart .band { fill: var(--sky); fill-opacity: 0.22; stroke: var(--sky); stroke-opacity: 0.6;
  stroke-width: 1; stroke-dasharray: 2 3; }
svg.chart .baseline { fill: none; stroke: #333a42; stroke-width: 1.6; stroke-dasharray: 7 4; }
svg.chart .series { fill: none; stroke: var(--blue); stroke-width: 2.2; stroke-linejoin: round; }
svg.chart .budget line { stroke: var(--purple); stroke-width: 1.6; stroke-dasharray: 2 3; }
svg.chart .budget text { fill: var(--purple); font-size: 11px; }
svg.chart .failing-column { fill: var(--vermillion); fill-opacity: 0.09; }
svg.chart .marker { fill: var(--blue); stroke: #fff; stroke-width: 1.2; }
svg.chart .marker.outcome-regression, svg.chart .marker.outcome-budget,
svg.chart .marker.outcome-missing { fill: var(--vermillion); stroke: #fff; stroke-width: 1.5; }
svg.chart .marker.outcome-improvement { fill: var(--green); }
svg.chart .marker.outcome-acknowledged { fill: var(--purple); }
svg.chart .marker.outcome-noisy { fill: #fff; stroke: var(--orange-ink); stroke-width: 2; }
svg.chart .failure-label { fill: var(--vermillion-ink); font-weight: 700; font-size: 12.5px;
  paint-order: stroke; stroke: #fff; stroke-width: 3px; }
svg.chart .bar rect { fill: var(--blue); }
svg.chart .bar.failing rect { stroke: var(--vermillion); stroke-width: 2; }
svg.chart .hatch-bg { fill: #fdebe0; }
svg.chart .hatch-line { stroke: var(--vermillion); stroke-width: 3; }
svg.chart .bar-label { font-size: 11.5px; font-variant-numeric: tabular-nums; }
svg.chart .percentile .series { stroke-width: 2; }
svg.chart .p-a .series { stroke: var(--blue); }
svg.chart .p-a .point { fill: var(--blue); }
svg.chart .p-b .series { stroke: #a6507f; stroke-dasharray: 8 4; }
svg.chart .p-b .point { fill: #a6507f; }
svg.chart .p-c .series { stroke: #333a42; stroke-dasharray: 2 3; }
svg.chart .p-c .point { fill: #333a42; }
svg.chart .point.failing { stroke: var(--vermillion); stroke-width: 2.5; }
svg.chart .line-label { font-weight: 700; font-size: 11.5px; }
.legend { display: flex; flex-wrap: wrap; gap: 2px 12px; font-size: 0.82rem; color: var(--muted);
  margin: 4px 0 0; padding: 0; list-style: none; }
.legend li { display: inline-flex; align-items: center; gap: 4px; }
.legend svg { width: 22px; height: 12px; flex: none; }
.chart-data { font-size: 0.85rem; margin-top: 4px; }
.chart-data table { font-size: 0.85rem; }
.chart-data th, .chart-data td { padding: 2px 6px; text-align: left; white-space: nowrap;
  border-bottom: 1px solid var(--line); }
.chart-data .scroll { overflow-x: auto; }
.text-fact { margin: 6px 0; }
table.load { font-size: 0.92rem; margin-bottom: 12px; }
table.load th, table.load td { padding: 5px 8px; border-bottom: 1px solid var(--line);
  text-align: right; font-variant-numeric: tabular-nums; }
table.load th:first-child, table.load td:first-child { text-align: left; }
table.load td, table.load th { white-space: nowrap; }
.scroll { overflow-x: auto; }
footer { color: var(--muted); font-size: 0.85rem; margin: 30px auto 20px; max-width: 1240px;
  padding: 0 16px; }

@media (max-width: 720px) {
  body { font-size: 15px; }
  main, header.page, footer { padding: 0 10px; }
  header.page { padding-top: 12px; }
  h1 { font-size: 1.25rem; }
  .cards { grid-template-columns: 1fr; }
  figure.card { padding: 8px; }
  /* charts shrink to ~0.75 of their drawn size: draw their text larger to stay readable */
  svg.chart text { font-size: 15px; }
  svg.chart .tick, svg.chart .axis-title, svg.chart .bar-label, svg.chart .line-label,
  svg.chart .budget text { font-size: 14.5px; }
  svg.chart .failure-label { font-size: 16px; }
  svg.chart.trend .x-labels text:nth-child(even):not(:last-child) { display: none; }
  /* the verdict table becomes one card per verdict */
  table.verdicts thead { position: absolute; width: 1px; height: 1px; overflow: hidden;
    clip: rect(0 0 0 0); }
  table.verdicts, table.verdicts tbody, table.verdicts tr, table.verdicts td { display: block; }
  table.verdicts tbody { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 10px;
    padding: 4px 0; }
  tbody.verdict.failing { border: 2px solid var(--vermillion); }
  table.verdicts td { padding: 2px 10px; }
  table.verdicts td.num, table.verdicts td.mode { display: inline-block; text-align: left;
    padding-right: 4px; }
  /* a passing verdict needs only its value on a phone; the rest is one tap away ("why") */
  tbody.verdict[data-outcome=pass] td:is([data-label=Baseline], [data-label=Change],
    [data-label=Threshold], [data-label=Mode]) { display: none; }
  table.verdicts td[data-label]::before { content: attr(data-label) ": "; color: var(--muted);
    font-weight: 600; }
  table.verdicts td.outcome::before, table.verdicts td.metric::before { content: none; }
  dl.meta { gap: 2px 10px; }
}
@media print {
  .filters, nav.toc { display: none; }
  figure.card { break-inside: avoid; }
}
"""

# Runs first, in <head>: records every script error, failed resource and blocked
# request, so a browser test (and a curious reader) can see the report rendered cleanly.
ERROR_CAPTURE_JS = """
window.perfciErrors = [];
window.addEventListener("error", function (event) {
  var target = event.target;
  var what = event.message ||
    ("failed to load " + ((target && (target.src || target.href)) || "a resource"));
  window.perfciErrors.push(String(what));
}, true);
window.addEventListener("unhandledrejection", function (event) {
  window.perfciErrors.push("unhandled rejection: " + String(event.reason));
});
document.addEventListener("securitypolicyviolation", function (event) {
  window.perfciErrors.push("blocked by the page's policy: " + event.blockedURI);
});
"""

FILTER_JS = """
(function () {
  var table = document.getElementById("verdict-table");
  if (!table) { return; }
  var search = document.getElementById("verdict-search");
  var chips = Array.prototype.slice.call(document.querySelectorAll("input[data-outcome-filter]"));
  var rows = Array.prototype.slice.call(table.querySelectorAll("tbody.verdict"));
  var count = document.getElementById("verdict-count");
  function apply() {
    var query = search.value.trim().toLowerCase();
    var allowed = {};
    chips.forEach(function (chip) { allowed[chip.value] = chip.checked; });
    var shown = 0;
    rows.forEach(function (row) {
      var visible = allowed[row.dataset.outcome] !== false &&
        (!query || row.dataset.search.indexOf(query) !== -1);
      row.classList.toggle("hidden", !visible);
      if (visible) { shown += 1; }
    });
    count.textContent = "Showing " + shown + " of " + rows.length + " verdicts";
  }
  search.addEventListener("input", apply);
  chips.forEach(function (chip) { chip.addEventListener("change", apply); });
  document.getElementById("show-failing").addEventListener("click", function () {
    chips.forEach(function (chip) { chip.checked = chip.dataset.failing === "true"; });
    apply();
  });
  document.getElementById("show-all").addEventListener("click", function () {
    chips.forEach(function (chip) { chip.checked = true; });
    search.value = "";
    apply();
  });
  document.querySelector(".filters").classList.remove("hidden");
  apply();
})();
"""

# Runs last: writes what rendered (each chart's size, any error) into #render-status.
RENDER_STATUS_JS = """
(function () {
  function report(phase) {
    var charts = Array.prototype.map.call(document.querySelectorAll("svg.chart"), function (svg) {
      var box = svg.getBoundingClientRect();
      return { id: svg.id, kind: svg.getAttribute("class"), width: Math.round(box.width),
        height: Math.round(box.height),
        marks: svg.querySelectorAll(".series, .bar, .marker").length };
    });
    document.getElementById("render-status").textContent = JSON.stringify({
      phase: phase, errors: window.perfciErrors, charts: charts,
      viewport: document.documentElement.clientWidth,
      overflow: document.documentElement.scrollWidth > document.documentElement.clientWidth
    });
  }
  report("parsed");
  window.addEventListener("load", function () { report("load"); });
})();
"""
