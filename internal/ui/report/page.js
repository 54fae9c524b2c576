// gofab's run report: renders DATA (the run, as report.Report marshals
// it) into the header, the timeline canvas, the hosts table and the
// selected host's detail. Plain JavaScript, no libraries, no network.
(function () {
  "use strict";
  const t0 = performance.now();
  const colors = { ok: "#2e9e44", failed: "#d7263d", unreachable: "#f18f01", skipped: "#8d99ae", interrupted: "#6c4ab6", running: "#4361ee", "not run": "#adb5bd" };
  const cls = (status) => "s-" + status.replace(/ /g, "-");
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const k in attrs || {}) {
      if (k === "class") e.className = attrs[k]; else if (k === "text") e.textContent = attrs[k]; else e.setAttribute(k, attrs[k]);
    }
    for (const kid of kids) e.append(kid);
    return e;
  };
  const secs = (s) => s < 60 ? s.toFixed(2) + " s" : Math.floor(s / 60) + " min " + (s % 60).toFixed(0) + " s";
  const hosts = DATA.hosts || [];

  // Header.
  const head = $("head");
  head.append(el("h1", { text: DATA.command ? "gofab -- " + DATA.command : "gofab run" + (DATA.fabfile ? ": " + DATA.fabfile : "") }));
  head.append(el("div", { class: "meta", text: (DATA.command ? "ad-hoc command" : "tasks " + (DATA.tasks || []).join(", ")) + " · started " + DATA.start + " · " + secs(DATA.duration) + " · " + hosts.length + " hosts" + (DATA.notRun && DATA.notRun.length ? " · not run: " + DATA.notRun.join(", ") : "") }));
  const chips = el("div", { id: "counts" });
  for (const s of ["ok", "failed", "unreachable", "skipped", "interrupted", "running", "not run"]) {
    const n = (DATA.counts || {})[s];
    if (n) chips.append(el("span", { class: "chip " + cls(s), "data-status": s, text: n + " " + s }));
  }
  head.append(chips);

  // Filters, from the URL's #status=…&q=… too.
  const statusSel = $("status-filter"), textIn = $("text-filter"), sortSel = $("sort");
  for (const s of Object.keys(DATA.counts || {}).sort()) statusSel.append(el("option", { value: s, text: s }));
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.get("status")) statusSel.value = params.get("status");
  if (params.get("q")) textIn.value = params.get("q");
  if (params.get("sort")) sortSel.value = params.get("sort");

  let selected = null;
  const firstStart = (h) => h.runs.length ? h.runs[0].from : 0;
  function visible() {
    const st = statusSel.value, q = textIn.value.toLowerCase();
    let list = hosts.filter((h) => (!st || h.status === st) && (!q || h.name.toLowerCase().includes(q) || (h.error || "").toLowerCase().includes(q)));
    const by = sortSel.value;
    if (by === "duration") list.sort((a, b) => b.duration - a.duration);
    else if (by === "status") list.sort((a, b) => a.status.localeCompare(b.status) || a.name.localeCompare(b.name));
    else if (by === "start") list.sort((a, b) => firstStart(a) - firstStart(b));
    return list;
  }

  // Table.
  const tbody = $("hosts").tBodies[0];
  function renderTable(list) {
    tbody.textContent = "";
    const frag = document.createDocumentFragment();
    for (const h of list) {
      const tr = el("tr", { class: cls(h.status) + (h === selected ? " selected" : ""), "data-host": h.name },
        el("td", { text: h.name }),
        el("td", {}, el("span", { class: "status " + cls(h.status), text: h.status })),
        el("td", { text: secs(h.duration) }),
        el("td", { text: String(h.changed || 0) }),
        el("td", { class: "err", text: h.error || "" }));
      tr.addEventListener("click", () => select(h));
      frag.append(tr);
    }
    tbody.append(frag);
    $("shown").textContent = list.length + " of " + hosts.length + " hosts";
  }

  // Timeline: a row per host, a bar per task run, thin bars per command,
  // batch bands and barrier lines behind.
  const canvas = $("timeline"), ctx = canvas.getContext("2d");
  const rowH = 14, labelW = 170;
  let view = { from: 0, to: Math.max(DATA.duration, 0.001) }, rows = [];
  function drawTimeline(list) {
    rows = list;
    const width = Math.max(600, canvas.parentElement.clientWidth - 2);
    const height = Math.max(40, list.length * rowH + 20);
    const dpr = window.devicePixelRatio || 1;
    canvas.width = width * dpr; canvas.height = height * dpr;
    canvas.style.width = width + "px"; canvas.style.height = height + "px";
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const span = view.to - view.from, plotW = width - labelW - 10;
    const x = (t) => labelW + ((t - view.from) / span) * plotW;
    ctx.fillStyle = "rgba(67, 97, 238, .08)";
    ctx.strokeStyle = "rgba(67, 97, 238, .35)";
    for (const b of DATA.batches || []) {
      const x0 = Math.max(labelW, x(b.from)), x1 = Math.min(width, x(b.to));
      if (x1 > x0) { ctx.fillRect(x0, 0, x1 - x0, height); ctx.strokeRect(x0, 0, x1 - x0, height); }
    }
    ctx.font = "10px system-ui, sans-serif";
    list.forEach((h, i) => {
      const y = i * rowH + 2;
      ctx.fillStyle = h === selected ? "#4361ee" : "#333";
      ctx.fillText(h.name.length > 26 ? h.name.slice(0, 25) + "…" : h.name, 4, y + 10);
      for (const r of h.runs) {
        // A host that failed or was unreachable at once still shows a
        // bar to see and hover: at least 6 pixels, drawn stronger.
        const bad = r.status !== "ok" && r.status !== "running";
        ctx.fillStyle = colors[r.status] || colors.running;
        ctx.globalAlpha = bad ? 0.85 : 0.45;
        ctx.fillRect(x(r.from), y, Math.max(bad ? 6 : 1, x(r.to) - x(r.from)), rowH - 2);
      }
      ctx.globalAlpha = 1;
      for (const c of h.commands) {
        const bad = c.error || (c.code !== undefined && c.code !== 0);
        ctx.fillStyle = bad ? colors.failed : "#1d2430";
        ctx.fillRect(x(c.from), y + 3, Math.max(1, x(c.to) - x(c.from)), rowH - 8);
      }
    });
    ctx.fillStyle = "#111";
    for (const b of DATA.barriers || []) {
      const bx = x(b.at);
      if (bx >= labelW) ctx.fillRect(bx, 0, 2, height);
    }
    $("range").textContent = secs(view.from) + " – " + secs(view.to);
  }
  function zoom(f, center) {
    const span = view.to - view.from, c = center === undefined ? view.from + span / 2 : center;
    const ns = Math.min(Math.max(span * f, 0.001), Math.max(DATA.duration, 0.001));
    view.from = Math.max(0, c - ns / 2); view.to = view.from + ns;
    drawTimeline(rows);
  }
  $("zoom-in").onclick = () => zoom(0.5);
  $("zoom-out").onclick = () => zoom(2);
  $("zoom-reset").onclick = () => { view = { from: 0, to: Math.max(DATA.duration, 0.001) }; drawTimeline(rows); };
  const timeAt = (ev) => {
    const r = canvas.getBoundingClientRect(), plotW = r.width - labelW - 10;
    return view.from + ((ev.clientX - r.left - labelW) / plotW) * (view.to - view.from);
  };
  canvas.addEventListener("wheel", (ev) => { ev.preventDefault(); zoom(ev.deltaY < 0 ? 0.8 : 1.25, timeAt(ev)); }, { passive: false });
  const hostAt = (ev) => rows[Math.floor((ev.clientY - canvas.getBoundingClientRect().top - 2) / rowH)];
  canvas.addEventListener("click", (ev) => { const h = hostAt(ev); if (h) select(h); });
  canvas.addEventListener("mousemove", (ev) => {
    const h = hostAt(ev), t = timeAt(ev), tip = $("tip");
    if (!h) { tip.hidden = true; return; }
    const c = h.commands.find((c) => c.from <= t && t <= c.to);
    const r = h.runs.find((r) => r.from <= t && t <= r.to);
    tip.textContent = h.name + " · " + h.status + (r ? "\n" + r.task + " " + secs(r.to - r.from) : "") + (c ? "\n" + c.kind + ": " + c.command + " (" + secs(c.to - c.from) + ")" : "");
    tip.style.left = ev.clientX + 12 + "px"; tip.style.top = ev.clientY + 12 + "px"; tip.hidden = false;
  });
  canvas.addEventListener("mouseleave", () => { $("tip").hidden = true; });

  // Detail of one host: its output with the failing command marked, and
  // the changes it made.
  function select(h) {
    selected = h;
    const d = $("detail");
    d.hidden = false;
    d.textContent = "";
    d.append(el("h2", { text: h.name + " — " + h.status + " in " + secs(h.duration) + (h.changed ? ", " + h.changed + " changed" : "") }));
    if (h.error) d.append(el("p", { class: "o-error", text: h.error }));
    if (h.changes && h.changes.length) {
      d.append(el("strong", { text: "Changes" }));
      const ul = el("ul", { class: "changes" });
      for (const c of h.changes) ul.append(el("li", { text: c }));
      d.append(ul);
    }
    if (h.diffs && h.diffs.length) {
      d.append(el("strong", { text: "Diffs" }), el("pre", { class: "out o-diff", text: h.diffs.join("\n") }));
    }
    const failing = new Set(h.commands.filter((c) => c.line >= 0 && (c.error || (c.code !== undefined && c.code !== 0))).map((c) => c.line));
    const pre = el("pre", { class: "out" });
    h.output.forEach((l, i) => {
      pre.append(el("span", { class: "o-" + l.stream + (failing.has(i) || l.stream === "error" ? " failing" : ""), text: (l.stream && l.stream !== "print" ? l.stream + ": " : "") + l.text }));
    });
    d.append(el("strong", { text: "Output" }), pre);
    refresh();
  }

  function refresh() {
    const list = visible();
    renderTable(list);
    drawTimeline(list);
  }
  for (const input of [statusSel, textIn, sortSel]) input.addEventListener("input", refresh);
  window.addEventListener("resize", () => drawTimeline(rows));
  refresh();
  if (params.get("host")) { const h = hosts.find((h) => h.name === params.get("host")); if (h) select(h); }
  document.body.dataset.renderMs = String(Math.round(performance.now() - t0));
  document.body.dataset.ready = "1";
})();
