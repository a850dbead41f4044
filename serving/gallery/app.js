// wmgen gallery: plain JS, no build step. Talks only to the /v1 API of the same origin.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { classes: [], stats: null, selected: null, labels: null, fps: 10, timer: null };

function authHeaders() {
  const t = $("token").value || localStorage.getItem("wmgen-token") || "";
  return t ? { Authorization: "Bearer " + t } : {};
}

async function api(path, opts = {}) {
  const r = await fetch(path, { ...opts, headers: { ...(opts.headers || {}), ...authHeaders() } });
  const body = r.headers.get("content-type")?.includes("json") ? await r.json() : await r.text();
  if (!r.ok) throw new Error((body && body.error) || r.status + " " + r.statusText);
  return body;
}

function el(tag, attrs = {}, text = "") {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text) e.textContent = text;
  return e;
}

// ------------------------------------------------------------------ coverage at a glance
async function loadStats() {
  state.stats = await api("/v1/catalog/stats");
  const s = state.stats;
  $("coverage-summary").textContent =
    `${s.n_clips} clips · ${s.n_classes_covered}/${s.n_classes} classes covered`;
  const c = $("coverage-map"), g = c.getContext("2d");
  c.width = s.n_classes; g.clearRect(0, 0, c.width, c.height);
  const counts = s.clips_per_class, max = Math.max(1, ...Object.values(counts));
  for (let i = 0; i < s.n_classes; i++) {
    const n = counts[String(i)] || 0;
    g.fillStyle = n ? `hsl(145, 60%, ${25 + 45 * Math.sqrt(n / max)}%)` : "#3a1f24";
    g.fillRect(i, 0, 1, c.height);
  }
}

// ------------------------------------------------------------------------ class browser
async function loadClasses() {
  const page = await api("/v1/classes");
  state.classes = page.items;
  const tags = new Set();
  for (const c of state.classes) c.tags.forEach((t) => tags.add(t));
  const sel = $("tag-filter");
  [...tags].sort().forEach((t) => sel.appendChild(el("option", { value: t }, t)));
  renderClassList();
}

function renderClassList() {
  const tag = $("tag-filter").value, q = $("search").value.toLowerCase();
  const counts = (state.stats && state.stats.clips_per_class) || {};
  const ul = $("class-list");
  ul.replaceChildren();
  for (const c of state.classes) {
    if (tag && !c.tags.includes(tag)) continue;
    if (q && !c.name.toLowerCase().includes(q)) continue;
    const n = counts[String(c.class_id)] || 0;
    const li = el("li", { "data-class-id": c.class_id });
    li.appendChild(el("span", { title: c.tags.join(" ") }, `${c.class_id} · ${c.name}`));
    li.appendChild(el("span", { class: "n" + (n ? "" : " zero") }, String(n)));
    li.onclick = () => selectClass(c);
    if (state.selected && state.selected.class_id === c.class_id) li.classList.add("sel");
    ul.appendChild(li);
  }
}

async function selectClass(c) {
  state.selected = c;
  renderClassList();
  $("class-detail").hidden = false;
  $("class-title").textContent = `${c.class_id} · ${c.name}`;
  const tags = $("class-tags");
  tags.replaceChildren(...c.tags.map((t) => el("span", {}, t)));
  await loadClips(c.class_id);
}

async function loadClips(classId) {
  const page = await api(`/v1/clips?class_id=${classId}&limit=60`);
  const box = $("clip-list");
  box.replaceChildren();
  for (const clip of page.items) {
    const d = el("div", { class: "clip", "data-clip-id": clip.clip_id });
    const img = el("img", { alt: clip.clip_id, loading: "lazy" });
    img.src = `/v1/clips/${clip.clip_id}/thumbnail`;
    d.appendChild(img);
    d.appendChild(el("div", {}, `seed ${clip.seed} · ${clip.backend} · ${clip.width_px}x${clip.height_px}`));
    d.onclick = () => playClip(clip);
    box.appendChild(d);
  }
  if (!page.items.length) box.appendChild(el("p", {}, "No clips yet: generate one."));
}

// --------------------------------------------------------------------------- generation
async function generate() {
  const c = state.selected;
  if (!c) return;
  const [w, h] = $("gen-size").value.split("x").map(Number);
  const body = { class_id: c.class_id, seed: Number($("gen-seed").value || 0),
                 width_px: w, height_px: h, seconds: w <= 320 ? 2 : 5 };
  const status = $("job-status");
  try {
    const job = await api("/v1/clips", { method: "POST", body: JSON.stringify(body),
                                         headers: { "Content-Type": "application/json" } });
    status.textContent = `job ${job.job_id.slice(0, 8)}: ${job.state}`;
    await watchJob(job.job_id);
  } catch (e) { status.textContent = "error: " + e.message; }
}

async function watchJob(jobId) {
  const status = $("job-status");
  for (let i = 0; i < 600; i++) {
    const j = await api(`/v1/jobs/${jobId}`);
    status.textContent = `job ${jobId.slice(0, 8)}: ${j.state} ${Math.round(j.progress * 100)}%`;
    status.dataset.state = j.state;
    if (["succeeded", "failed", "cancelled"].includes(j.state)) {
      if (j.error) status.textContent += " · " + j.error;
      await loadStats(); renderClassList();
      if (state.selected) await loadClips(state.selected.class_id);
      return j;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

// ------------------------------------------------------------------------------ player
async function playClip(clip) {
  $("player").hidden = false;
  $("clip-title").textContent = `${clip.class_name} · seed ${clip.seed} · ${clip.clip_id}`;
  $("clip-info").textContent = JSON.stringify({ tags: clip.tags, params: clip.params,
                                                provenance: clip.provenance }, null, 1);
  state.fps = clip.fps;
  const base = `/v1/clips/${clip.clip_id}`;
  const v = $("video");
  v.src = `${base}/video`;
  for (const k of ["hdmap", "depth", "semantic"]) $("ctl-" + k).src = `${base}/controls/${k}`;
  const ov = $("overlay");
  ov.width = clip.width_px; ov.height = clip.height_px;
  state.labels = null;
  try { state.labels = await api(`${base}/labels`); } catch (e) { state.labels = null; }
  v.onloadeddata = () => drawBoxes();
  v.play().catch(() => {});
  if (state.timer) cancelAnimationFrame(state.timer);
  const tick = () => { syncControls(); drawBoxes(); state.timer = requestAnimationFrame(tick); };
  tick();
}

function syncControls() {
  const v = $("video");
  for (const k of ["hdmap", "depth", "semantic"]) {
    const c = $("ctl-" + k);
    if (c.readyState >= 1 && Math.abs(c.currentTime - v.currentTime) > 0.15) c.currentTime = v.currentTime;
    if (v.paused !== c.paused) { v.paused ? c.pause() : c.play().catch(() => {}); }
  }
}

// 2D boxes from the OpenLABEL labels: frames[i].objects[uid].object_data.bbox box2d [cx,cy,w,h]
function boxesAt(frame) {
  const root = state.labels && state.labels.openlabel;
  const fr = root && root.frames && root.frames[String(frame)];
  if (!fr) return [];
  const out = [];
  for (const [uid, o] of Object.entries(fr.objects || {})) {
    const b = (o.object_data.bbox || []).find((x) => x.name === "box2d");
    if (!b) continue;
    const type = (root.objects[uid] && root.objects[uid].type) || "";
    out.push({ uid, type, val: b.val });
  }
  return out;
}

const COLOURS = { car: "#ffd166", truck: "#f78c6b", pedestrian: "#ef476f", cyclist: "#06d6a0",
                  animal: "#118ab2", obstacle: "#cdb4db" };

function drawBoxes() {
  const ov = $("overlay"), g = ov.getContext("2d"), v = $("video");
  g.clearRect(0, 0, ov.width, ov.height);
  if (!$("boxes").checked || !state.labels) { ov.dataset.boxes = "0"; return; }
  const frame = Math.min(Math.floor(v.currentTime * state.fps + 1e-3),
                         Object.keys(state.labels.openlabel.frames || {}).length - 1);
  const boxes = boxesAt(Math.max(frame, 0));
  g.lineWidth = Math.max(1, ov.width / 400);
  g.font = `${Math.max(10, ov.width / 60)}px sans-serif`;
  for (const b of boxes) {
    const [cx, cy, w, h] = b.val;
    g.strokeStyle = g.fillStyle = COLOURS[b.type] || "#ffffff";
    g.strokeRect(cx - w / 2, cy - h / 2, w, h);
    g.fillText(b.type, cx - w / 2, cy - h / 2 - 2);
  }
  ov.dataset.boxes = String(boxes.length);
}

// --------------------------------------------------------------------------------- init
async function init() {
  const saved = localStorage.getItem("wmgen-token");
  if (saved) $("token").value = saved;
  $("token").onchange = () => localStorage.setItem("wmgen-token", $("token").value);
  $("tag-filter").onchange = renderClassList;
  $("search").oninput = renderClassList;
  $("generate").onclick = generate;
  $("boxes").onchange = drawBoxes;
  try {
    await loadStats();
    await loadClasses();
    document.body.dataset.ready = "1";
  } catch (e) {
    $("coverage-summary").textContent = "error: " + e.message;
  }
}

init();
