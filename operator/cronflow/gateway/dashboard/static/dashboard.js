// The cronflow dashboard: plain DOM, no framework. Every string from the cluster goes in as text
// (textContent or a text node), never as markup; the token lives in this tab's sessionStorage only.
"use strict";

const TOKEN_KEY = "cronflow.token";
const NAMESPACE_KEY = "cronflow.namespace";
const POLL_MS = 10000;
const PAGE_SIZE = 100;
const API = "/api/v1/dashboard";

const view = { namespace: "", page: 1, failing: false, job: null, canAct: false, busy: false };
const $ = (id) => document.getElementById(id);

// el("td", {class: "x"}, child, "text"...): strings become text nodes.
function el(tag, attributes = {}, ...children) {
  const made = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") made.className = value;
    else if (key === "text") made.textContent = value;
    else if (key === "onclick") made.addEventListener("click", value);
    else made.setAttribute(key, value);
  }
  made.append(...children);
  return made;
}

class SignedOut extends Error {}

async function call(path, options = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) throw new SignedOut("not signed in");
  const answer = await fetch(path, { ...options, headers: { Authorization: `Bearer ${token}` } });
  let body = {};
  try { body = await answer.json(); } catch { /* a proxy's error page: the status says enough */ }
  if (answer.status === 401) throw new SignedOut(body.msg || "the API server refused the token");
  if (!answer.ok) throw new Error(body.msg || `HTTP ${answer.status}`);
  return body;
}

function say(text, isError = false) {
  const message = $("message");
  message.textContent = text;
  message.classList.toggle("error", isError);
}

function failed(error) {
  if (error instanceof SignedOut) signOut(error.message);
  else say(error.message, true);
}

function show(section) {
  for (const id of ["sign-in", "list", "detail"]) $(id).hidden = id !== section;
}

// --- time -------------------------------------------------------------------------------------------
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

function when(iso, timeStyle = "medium") {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle });
}

function fromNow(iso) {
  const seconds = (new Date(iso) - Date.now()) / 1000;
  for (const [unit, size] of [["day", 86400], ["hour", 3600], ["minute", 60]]) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return relative.format(Math.round(seconds), "second");
}

function timeElement(iso, withRelative = false) {
  const text = withRelative ? `${when(iso, "short")} (${fromNow(iso)})` : when(iso);
  return el("time", { datetime: iso, text });
}

// --- sign-in ----------------------------------------------------------------------------------------
function takeFragment() {
  // kubectl cronflow dashboard opens /#token=...&namespace=...: keep both, then drop them from the URL.
  const given = new URLSearchParams(location.hash.slice(1));
  if (given.get("token")) sessionStorage.setItem(TOKEN_KEY, given.get("token"));
  if (given.get("namespace")) sessionStorage.setItem(NAMESPACE_KEY, given.get("namespace"));
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
}

function signOut(why = "") {
  sessionStorage.removeItem(TOKEN_KEY);
  view.job = null;
  $("who").textContent = "";
  $("sign-out").hidden = true;
  show("sign-in");
  say(why, Boolean(why));
  $("token").focus();
}

async function signIn() {
  const session = await call(`${API}/session`);
  $("who").textContent = `signed in as ${session.username}`;
  $("sign-out").hidden = false;
  const offered = [...session.namespaces];
  const wanted = sessionStorage.getItem(NAMESPACE_KEY) || session.namespace;
  if (!offered.includes(wanted)) offered.unshift(wanted);
  $("namespace").replaceChildren(...offered.map((ns) => el("option", { value: ns, text: ns })));
  $("namespace").value = wanted;
  view.namespace = wanted;
  view.page = 1;
  say(session.namespaces.length ? "" : "You may list ScheduledJobs in none of the namespaces this gateway offers.");
  show("list");
  await loadList();
}

// --- the table --------------------------------------------------------------------------------------
function markLabel(mark) {
  const http = mark.http_status === null ? "no HTTP answer" : `HTTP ${mark.http_status}`;
  return `${mark.status}, ${mark.trigger} run, finished ${when(mark.finished_at)}, ${http}`;
}

function strip(results) {
  const marks = results.map((mark) => {
    const label = markLabel(mark);
    return el("li", {},
      el("span", { class: `mark ${mark.status === "OK" ? "ok" : "error"}`, tabindex: "0", "aria-label": label,
                   "data-key": `mark:${mark.job}` },
         mark.status === "OK" ? "✓" : "✗",
         el("span", { class: "tip", role: "tooltip", text: label })));
  });
  return marks.length ? el("ol", { class: "strip", "aria-label": "recent results, oldest first" }, ...marks)
    : el("span", { class: "hint", text: "no runs yet" });
}

function stateCell(job) {
  const cell = el("td", {}, el("span", { class: `state ${job.state.toLowerCase()}`, text: job.state }));
  if (job.automatic) cell.append(" ", el("span", { class: "hint", text: "automatic" }));
  if (job.failing) {
    const streak = job.consecutive_failures > 1 ? ` (${job.consecutive_failures} in a row)` : "";
    cell.append(el("br"), el("span", { class: "failing-badge", text: `✗ failing${streak}` }));
  }
  if (job.running) cell.append(el("br"), el("span", { class: "hint", text: `${job.running} running` }));
  if (job.problem) cell.append(el("br"), el("span", { class: "problem", text: `⚠ ${job.problem}` }));
  return cell;
}

function actionButtons(job) {
  const buttons = [["trigger", "Run now"]];
  if (job.state === "DISABLED") buttons.push(["enable", "Enable"]);
  else buttons.push(["disable", "Disable"]);
  if (job.state === "PAUSED") buttons.push(["resume", "Resume"]);
  return buttons.map(([action, label]) => el("button", {
    type: "button", class: `action ${action}`, "data-key": `${action}:${job.name}`,
    "aria-label": `${label}: ${job.display_name}`, onclick: () => act(job.name, action),
  }, label));
}

function row(job) {
  const name = el("button", { type: "button", class: "link", "data-key": `open:${job.name}`,
                              onclick: () => openJob(job.name) }, job.display_name);
  const nameCell = el("th", { scope: "row" }, name);
  if (job.display_name !== job.name) nameCell.append(el("br"), el("span", { class: "hint", text: job.name }));
  const next = job.next_run_times.length
    ? el("ul", { class: "plain" }, ...job.next_run_times.map((t) => el("li", {}, timeElement(t, true))))
    : el("span", { class: "hint", text: "—" });
  const cells = [
    nameCell,
    el("td", {}, el("code", { text: job.schedule }), el("br"), el("span", { class: "hint", text: job.time_zone })),
    stateCell(job),
    el("td", {}, next),
    el("td", {}, strip(job.results)),
  ];
  if (view.canAct) cells.push(el("td", { class: "actions" }, ...actionButtons(job)));
  return el("tr", { class: job.failing ? "failing" : "", "data-name": job.name }, ...cells);
}

// Rebuilding the table must not lose the keyboard focus: the focused control is found again by its key.
function keepingFocus(render) {
  const key = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : null;
  render();
  if (key) {
    const again = [...document.querySelectorAll("[data-key]")].find((node) => node.dataset.key === key);
    if (again) again.focus();
  }
}

async function loadList() {
  const query = new URLSearchParams({ namespace: view.namespace, page: view.page, limit: PAGE_SIZE });
  if (view.failing) query.set("failing", "true");
  const page = await call(`${API}/jobs?${query}`);
  view.canAct = page.can_act;
  keepingFocus(() => {
    $("actions-heading").hidden = !page.can_act;
    $("jobs").querySelector("tbody").replaceChildren(...page.jobs.map(row));
  });
  $("empty").hidden = page.jobs.length > 0;
  $("empty").textContent = view.failing ? "No job is failing now." : "No ScheduledJobs here.";
  $("prev").disabled = page.page <= 1;
  $("next").disabled = !page.more;
  const first = (page.page - 1) * page.limit + 1;
  const range = page.jobs.length ? `jobs ${first} to ${first + page.jobs.length - 1}` : "no jobs";
  $("page-info").textContent = `Page ${page.page}: ${range}${page.total === null ? "" : ` of ${page.total}`}`;
  $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
}

// --- one job ----------------------------------------------------------------------------------------
function facts(pairs) {
  return pairs.flatMap(([term, value]) => [el("dt", { text: term }), el("dd", {}, value)]);
}

function pretty(response) {
  try { return JSON.stringify(JSON.parse(response), null, 2); } catch { return response; }
}

function runArticle(run, open) {
  const http = run.http_status === null ? "no HTTP answer" : `HTTP ${run.http_status}`;
  const summary = el("summary", {},
    el("span", { class: `mark ${run.status === "OK" ? "ok" : "error"}` }, run.status === "OK" ? "✓" : "✗"),
    ` ${run.status} · ${run.trigger} · ${when(run.finished_at || run.start_time)} · ${http}`);
  const pairs = [
    ["Job", el("code", { text: run.job })],
    ["Trigger", run.trigger],
    ["Started", timeElement(run.start_time)],
    ["Finished", run.finished_at ? timeElement(run.finished_at) : "—"],
    ["Attempts", run.attempts === null ? "—" : String(run.attempts)],
    ["HTTP status", run.http_status === null ? "no answer" : String(run.http_status)],
  ];
  if (run.scheduled_time) pairs.push(["Scheduled for", timeElement(run.scheduled_time)]);
  if (run.input_file) pairs.push(["Input file", el("code", { text: run.input_file })]);
  if (run.completion_job_id) pairs.push(["Remote job", el("code", { text: run.completion_job_id })]);
  if (run.message) pairs.push(["Message", el("span", { class: "message", text: run.message })]);
  const body = [el("dl", { class: "facts" }, ...facts(pairs))];
  if (run.headers.length) {
    body.push(el("table", { class: "headers" },
      el("caption", { text: "Response headers" }),
      el("tbody", {}, ...run.headers.map((h) => el("tr", {}, el("th", { scope: "row", text: h.key }),
                                                       el("td", { text: h.value }))))));
  }
  body.push(el("h4", { text: run.truncated ? "Response (cut to fit the status)" : "Response" }),
            el("pre", { class: "response", text: run.response ? pretty(run.response) : "(empty)" }));
  return el("details", { class: `run ${run.status.toLowerCase()}`, ...(open ? { open: "" } : {}) }, summary, ...body);
}

function renderJob(detail) {
  const job = detail.summary;
  $("detail-title").textContent = job.display_name;
  $("detail-facts").replaceChildren(...facts([
    ["Namespace", detail.namespace],
    ["Name", el("code", { text: job.name })],
    ["Schedule", `${job.schedule} (${job.time_zone})`],
    ["State", el("span", { class: `state ${job.state.toLowerCase()}`, text: job.state })],
    ["Mode", job.automatic ? "automatic (one run per new file)" : "schedule"],
    ["Next runs (your time)", job.next_run_times.length
      ? el("ul", { class: "plain" }, ...job.next_run_times.map((t) => el("li", {}, timeElement(t, true)))) : "—"],
    ["Consecutive failures", String(job.consecutive_failures)],
    ["Running", detail.active.length ? detail.active.join(", ") : "—"],
  ]));
  $("detail-actions").replaceChildren(...(detail.can_act ? actionButtons(job) : []));
  $("detail-conditions").replaceChildren(...(detail.conditions.length
    ? detail.conditions.map((c) => el("li", {}, el("strong", { text: `${c.type}=${c.status}` }),
                                     ` ${c.reason}${c.message ? `: ${c.message}` : ""}`))
    : [el("li", { text: "none yet: no operator has reconciled it" })]));
  $("detail-runs").replaceChildren(...(detail.runs.length ? detail.runs.map((run, i) => runArticle(run, i === 0))
    : [el("p", { class: "hint", text: "no runs yet" })]));
}

async function loadJob() {
  const query = new URLSearchParams({ namespace: view.namespace });
  const detail = await call(`${API}/jobs/${encodeURIComponent(view.job)}?${query}`);
  // Keep which results the viewer opened or closed across refreshes.
  const opened = [...$("detail-runs").querySelectorAll("details")].map((d) => d.open);
  keepingFocus(() => renderJob(detail));
  if (opened.length) $("detail-runs").querySelectorAll("details").forEach((d, i) => { d.open = opened[i] ?? false; });
  $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
}

async function openJob(name) {
  view.job = name;
  $("detail-runs").replaceChildren();
  try {
    await loadJob();
    show("detail");
    $("back").focus();
  } catch (error) {
    view.job = null;
    failed(error);
  }
}

function closeJob() {
  const name = view.job;
  view.job = null;
  show("list");
  refresh().then(() => {
    const opener = [...document.querySelectorAll("[data-key]")].find((node) => node.dataset.key === `open:${name}`);
    if (opener) opener.focus();
  });
}

// --- actions ----------------------------------------------------------------------------------------
async function act(name, action) {
  const query = new URLSearchParams({ namespace: view.namespace });
  try {
    const done = await call(`${API}/jobs/${encodeURIComponent(name)}/${action}?${query}`, { method: "POST" });
    say(`${name}: ${action} done`);
    await refresh();
    if (done.run_id) followRun(name, done.run_id);
  } catch (error) {
    failed(error);
  }
}

async function followRun(name, runId) {
  for (let tries = 0; tries < 120; tries++) {
    let run;
    try { run = await call(`/api/v1/scheduler/runs/${encodeURIComponent(runId)}`); } catch { return; }
    say(`${name}: the run you started is ${run.state}${run.msg ? ` (${run.msg})` : ""}`, run.state === "ERROR");
    if (run.state === "OK" || run.state === "ERROR") { await refresh(); return; }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

// --- refresh and wiring -----------------------------------------------------------------------------
async function refresh() {
  if (view.busy || !sessionStorage.getItem(TOKEN_KEY)) return;
  view.busy = true;
  try {
    if (view.job) await loadJob(); else await loadList();
  } catch (error) {
    failed(error);
  } finally {
    view.busy = false;
  }
}

function wire() {
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    say("");
    signIn().catch(failed);
  });
  $("sign-out").addEventListener("click", () => signOut());
  $("namespace").addEventListener("change", () => {
    view.namespace = $("namespace").value;
    view.page = 1;
    sessionStorage.setItem(NAMESPACE_KEY, view.namespace);
    refresh();
  });
  $("failing").addEventListener("change", () => {
    view.failing = $("failing").checked;
    view.page = 1;
    refresh();
  });
  $("prev").addEventListener("click", () => { view.page = Math.max(1, view.page - 1); refresh(); });
  $("next").addEventListener("click", () => { view.page += 1; refresh(); });
  $("back").addEventListener("click", closeJob);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && view.job) closeJob();
  });
  setInterval(() => { if (!document.hidden) refresh(); }, POLL_MS);
}

wire();
takeFragment();
if (sessionStorage.getItem(TOKEN_KEY)) signIn().catch(failed); else signOut();
