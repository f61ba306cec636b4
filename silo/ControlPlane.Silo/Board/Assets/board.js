// The web board. Plain script, no build step. Every value from the server is put in the page with textContent,
// never as markup. The token lives in this tab's sessionStorage and travels only in the authorization header of
// fetch calls (the live feed is read with fetch streaming, since EventSource cannot send a header).
"use strict";
(() => {
  const KEY = "controlplane.board.token";
  const PAGES = ["fleet", "pools", "backups", "alerts", "decisions", "coverage", "runbooks"];
  const $ = (id) => document.getElementById(id);
  let token = sessionStorage.getItem(KEY);
  let feed = null;          // AbortController of the live feed
  let retry = 0;
  const tiers = new Map();  // tier name -> last TierView
  let refreshTimer = 0;

  // ---------- plumbing ----------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v; else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }
  const badge = (text) => el("span", { class: "badge " + text }, text);
  const when = (iso) => iso ? new Date(iso).toLocaleString() : "—";
  const seconds = (s) => s === null || s === undefined ? "—" : (s < 10 ? s.toFixed(2) : s.toFixed(0)) + " s";
  const bytes = (n) => n < 1024 ? n + " B" : n < 1048576 ? (n / 1024).toFixed(1) + " KiB" : (n / 1048576).toFixed(1) + " MiB";

  /** A table: columns are [label, cell(row), numeric?]; each cell carries its label for the narrow layout. */
  function table(columns, rows, empty) {
    if (rows.length === 0) return el("p", { class: "empty" }, empty);
    const head = el("thead", {}, el("tr", {}, columns.map(([label, , num]) => el("th", { scope: "col", class: num ? "num" : null }, label))));
    const body = el("tbody", {}, rows.map((r) => el("tr", {}, columns.map(([label, cell, num]) =>
      el("td", { "data-label": label, class: num ? "num" : null }, cell(r))))));
    return el("div", { class: "table-wrap" }, el("table", {}, head, body));
  }

  class Refused extends Error { constructor(status, message) { super(message); this.status = status; } }

  async function api(path) {
    const response = await fetch("/board/api/" + path, { headers: { authorization: "Bearer " + token }, cache: "no-store" });
    if (response.ok) return response.json();
    let message = response.status + " " + response.statusText;
    try { message = (await response.json()).error || message; } catch { /* not JSON */ }
    throw new Refused(response.status, message);
  }

  function failed(error) {
    if (error instanceof Refused && (error.status === 401 || error.status === 403)) { signOut(error.message); return; }
    setStatus("down", error.message);
  }

  function setStatus(kind, text) {
    const s = $("status");
    s.className = "status " + kind;
    s.textContent = text;
  }

  // ---------- sign in / out ----------
  async function signIn(candidate) {
    token = candidate;
    try {
      const session = await api("session");
      sessionStorage.setItem(KEY, token);
      $("principal").textContent = session.principal + " · " + session.role;
      $("fleet-env").textContent = "environment " + session.environment;
      $("login").hidden = true;
      $("board").hidden = false;
      $("who").hidden = false;
      $("login-error").textContent = "";
      show(location.hash.slice(1));
      openFeed();
    } catch (error) {
      token = null;
      sessionStorage.removeItem(KEY);
      $("login-error").textContent = error.message;
      setStatus("down", "signed out");
    }
  }

  function signOut(reason) {
    token = null;
    sessionStorage.removeItem(KEY);
    if (feed) feed.abort();
    feed = null;
    tiers.clear();
    $("tiers").replaceChildren();
    $("board").hidden = true;
    $("who").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = reason || "";
    setStatus("down", "signed out");
    $("token").focus();
  }

  // ---------- pages ----------
  function show(page) {
    if (!PAGES.includes(page)) page = "fleet";
    for (const section of document.querySelectorAll(".page")) section.hidden = section.dataset.page !== page;
    for (const link of document.querySelectorAll(".tabs a")) {
      if (link.dataset.page === page) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
    }
    document.body.dataset.page = page;
    refresh(page);
  }

  const current = () => document.body.dataset.page || "fleet";

  async function refresh(page) {
    if (!token) return;
    try {
      switch (page) {
        case "fleet": renderFleet(await api("fleet")); break;
        case "pools": renderPools(await api("pools")); break;
        case "backups": renderBackups(await api("backups")); break;
        case "alerts": renderAlerts(await api("alerts")); break;
        case "decisions": renderDecisions(await api("decisions?limit=50")); break;
        case "coverage": renderCoverage(await api("coverage")); break;
        case "runbooks": await renderRunbook(); break;
      }
      document.body.dataset.loaded = page;
    } catch (error) { failed(error); }
  }

  /** Pages other than the fleet re-read after a change, at most every 1.5 s. */
  function refreshSoon() {
    if (current() === "fleet" || refreshTimer) return;
    refreshTimer = setTimeout(() => { refreshTimer = 0; refresh(current()); }, 1500);
  }

  function renderFleet(fleet) {
    for (const tier of fleet.tiers) remember(tier);
    drawTiers();
  }

  /** Keeps a tier's newest view, and when its current primary first showed here (the live-update delay is read off it). */
  function remember(tier) {
    const before = tiers.get(tier.name);
    if (before && before.version > tier.version) return before;
    tier.appliedAt = Date.now();
    if (before && before.primary === tier.primary) {
      tier.primaryUpdatedAt = before.primaryUpdatedAt;
      tier.primaryAppliedAt = before.primaryAppliedAt;
    } else {
      tier.primaryUpdatedAt = Date.parse(tier.updatedAt);
      tier.primaryAppliedAt = tier.appliedAt;
    }
    tiers.set(tier.name, tier);
    return before;
  }

  function drawTiers() {
    const all = [...tiers.values()].sort((a, b) => a.name.localeCompare(b.name));
    const count = (h) => all.filter((t) => t.health === h).length;
    $("fleet-summary").textContent = `${all.length} tiers: ${count("healthy")} healthy, ${count("degraded")} degraded, ${count("down")} down`;
    $("tiers").replaceChildren(...all.map(tierCard));
  }

  function tierCard(t) {
    const card = el("article", {
      class: "card tier", "data-tier": t.name, "data-health": t.health, "data-primary": t.primary, "data-term": t.term,
      "data-version": t.version, "data-primary-updated-at": t.primaryUpdatedAt, "data-primary-applied-at": t.primaryAppliedAt,
      "aria-labelledby": "tier-" + t.name,
    },
      el("h3", { id: "tier-" + t.name }, t.name, badge(t.health), t.paused ? badge("paused") : null),
      el("dl", { class: "facts" },
        el("div", {}, el("dt", {}, "primary"), el("dd", { class: "primary" }, t.primary || "—")),
        el("div", {}, el("dt", {}, "term"), el("dd", {}, t.term)),
        el("div", {}, el("dt", {}, "version"), el("dd", {}, t.version))),
      t.health !== "healthy" && t.healthReason ? el("p", { class: "alerts-line" }, t.healthReason) : null,
      t.alerts.map((a) => el("p", { class: "alerts-line" }, a)),
      table([
        ["replica", (r) => r.name],
        ["role", (r) => r.role],
        ["health", (r) => badge(r.healthy ? "healthy" : r.reachable ? "degraded" : "down")],
        ["lag", (r) => r.role === "primary" ? "—" : bytes(r.lagBytes) + " · " + seconds(r.lagSeconds), true],
        ["connections", (r) => `${r.connections}/${r.maxConnections}`, true],
        ["address", (r) => r.address],
      ], t.replicas, "no replicas reported yet"));
    return card;
  }

  function renderPools(pools) {
    $("pools").replaceChildren(...pools.map((p) => el("article", { class: "card", "data-tier": p.tier },
      el("h3", {}, p.tier, el("span", { class: "muted" }, `${p.granted} of ${p.capacity} granted (${p.grantedPercent} %)`)),
      el("div", { class: "bar" + (p.grantedPercent > 100 ? " over" : ""), role: "img", "aria-label": `${p.grantedPercent} percent granted` },
        el("span", { "data-width": Math.min(p.grantedPercent, 100) })),
      el("dl", { class: "facts" },
        el("div", {}, el("dt", {}, "primary"), el("dd", {}, p.primary || "—")),
        el("div", {}, el("dt", {}, "max_connections"), el("dd", {}, p.maxConnections)),
        el("div", {}, el("dt", {}, "unmanaged"), el("dd", {}, p.unmanaged))),
      p.alerts.map((a) => el("p", { class: "alerts-line" }, a)),
      table([
        ["tenant", (t) => t.tenant],
        ["granted", (t) => t.granted, true],
        ["in use", (t) => t.inUse, true],
        ["leases", (t) => t.leases, true],
        ["min / max", (t) => `${t.min} / ${t.max}`, true],
        ["weight", (t) => t.weight, true],
        ["overruns", (t) => t.overruns, true],
      ], p.tenants, "no tenant has a plan on this tier"))));
    // Widths are set from script: the style policy forbids inline style attributes in markup.
    for (const span of document.querySelectorAll(".bar span[data-width]")) span.style.width = span.dataset.width + "%";
  }

  function renderBackups(backups) {
    $("backups").replaceChildren(table([
      ["tier", (b) => b.tier],
      ["last verified", (b) => [badge(b.freshness), " ", when(b.lastVerifiedAt)]],
      ["RPO", (b) => [badge(b.rpoState), " ", seconds(b.rpoSeconds), " (target ", seconds(b.rpoTargetSeconds), ")"]],
      ["last drill", (b) => b.lastDrill ? [badge(b.lastDrill.outcome), " ", when(b.lastDrill.startedAt)] : badge("none")],
      ["RTO", (b) => b.lastDrill && b.lastDrill.rtoSeconds !== null ? `${seconds(b.lastDrill.rtoSeconds)} (target ${seconds(b.rtoTargetSeconds)})` : "—"],
      ["schedule", (b) => b.schedule],
      ["alert", (b) => b.alert || "—"],
    ], backups, "no tiers"));
  }

  function renderAlerts(alerts) {
    const firing = alerts.filter((a) => a.phase === "firing" && !a.silenced).length;
    $("alert-count").textContent = firing > 0 ? String(firing) : "";
    $("alerts").replaceChildren(table([
      ["state", (a) => [badge(a.phase), a.silenced ? " silenced" : ""]],
      ["severity", (a) => badge(a.severity)],
      ["rule", (a) => a.rule],
      ["where", (a) => Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(" ")],
      ["summary", (a) => a.summary],
      ["since", (a) => when(a.since)],
      ["runbook", (a) => a.runbook || "—"],
    ], alerts, "no alerts: every rule is quiet"));
  }

  function renderDecisions(decisions) {
    $("decisions").replaceChildren(table([
      ["when", (d) => when(d.at)],
      ["tier", (d) => d.tier],
      ["decision", (d) => d.kind],
      ["term", (d) => d.term, true],
      ["primary", (d) => d.oldPrimary === d.newPrimary ? d.newPrimary : `${d.oldPrimary} → ${d.newPrimary}`],
      ["outcome", (d) => d.outcome],
      ["by", (d) => d.principal],
      ["operation", (d) => d.operationId || "—"],
      ["reason", (d) => d.reason],
    ], decisions, "no decisions recorded yet"));
  }

  function renderCoverage(coverage) {
    const items = (t) => t.areas.flatMap((a) => a.items.map((i) => ({ area: a.title, ...i })));
    $("coverage").replaceChildren(
      el("p", { class: "muted", "data-available": "true" }, `Overall ${coverage.percent} % covered, measured `, when(coverage.evaluatedAt)),
      table([
        ["area", (a) => a.title],
        ["covered", (a) => a.available ? `${a.percent} %` : badge("not available"), true],
        ["failing", (a) => a.failing, true],
        ["stale", (a) => a.stale, true],
        ["page", (a) => a.doc],
      ], coverage.areas, "no areas"),
      ...coverage.tiers.map((t) => el("article", { class: "card", "data-tier": t.tier },
        el("h3", {}, t.tier, el("span", { class: "muted" }, `${t.percent} % covered`)),
        table([
          ["area", (i) => i.area],
          ["evidence", (i) => i.title],
          ["state", (i) => badge(i.state)],
          ["why", (i) => i.reason],
          ["fix", (i) => i.fix || "—"],
        ], items(t), "no evidence"))));
  }

  /** The runbook picked in the two lists, rendered by the silo from live state; the tier list follows the fleet. */
  async function renderRunbook() {
    const pick = $("runbook-tier");
    if (pick.options.length === 0) {
      const fleet = await api("fleet");
      pick.replaceChildren(...fleet.tiers.map((t) => el("option", { value: t.name }, t.name)));
    }
    const kind = $("runbook-kind").value;
    const runbook = await api(`runbook?kind=${encodeURIComponent(kind)}&tier=${encodeURIComponent(pick.value)}`);
    $("runbook").textContent = runbook.markdown;
  }

  // ---------- live feed ----------
  async function openFeed() {
    if (feed) feed.abort();
    const controller = new AbortController();
    feed = controller;
    try {
      const response = await fetch("/board/api/events", { headers: { authorization: "Bearer " + token }, signal: controller.signal, cache: "no-store" });
      if (!response.ok) {
        let message = response.status + " " + response.statusText;
        try { message = (await response.json()).error || message; } catch { /* not JSON */ }
        throw new Refused(response.status, message);
      }
      setStatus("live", "live");
      retry = 0;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          dispatch(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
      throw new Error("the live feed ended");
    } catch (error) {
      if (controller.signal.aborted || feed !== controller) return;
      if (error instanceof Refused && (error.status === 401 || error.status === 403)) { signOut(error.message); return; }
      retry = Math.min(retry + 1, 5);
      setStatus("down", `reconnecting (${error.message})`);
      setTimeout(() => { if (feed === controller && token) openFeed(); }, 500 * retry);
    }
  }

  function dispatch(block) {
    let name = "message";
    let data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) name = line.slice(7);
      else if (line.startsWith("data: ")) data += line.slice(6);
    }
    if (!data) return;
    const payload = JSON.parse(data);
    if (name === "tier") {
      const before = remember(payload);
      drawTiers();
      if (!before || before.term !== payload.term || before.primary !== payload.primary || before.health !== payload.health
        || before.alerts.join("\n") !== payload.alerts.join("\n")) refreshSoon();
    } else if (name === "alerts") {
      if (current() === "alerts") refresh("alerts"); else api("alerts").then(renderAlertCount, () => {});
    } else if (name === "closed") {
      signOut(payload.reason);
    }
  }

  function renderAlertCount(alerts) {
    const firing = alerts.filter((a) => a.phase === "firing" && !a.silenced).length;
    $("alert-count").textContent = firing > 0 ? String(firing) : "";
  }

  // ---------- start ----------
  document.addEventListener("DOMContentLoaded", () => {
    $("login-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const value = $("token").value.trim();
      $("token").value = "";
      signIn(value);
    });
    $("signout").addEventListener("click", () => signOut("signed out"));
    for (const id of ["runbook-kind", "runbook-tier"]) $(id).addEventListener("change", () => refresh("runbooks"));
    window.addEventListener("hashchange", () => { show(location.hash.slice(1)); $("content").focus(); });
    if (token) signIn(token); else $("token").focus();
  });
})();
