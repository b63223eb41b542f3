// Sight's web page: search as you type, search by example photo (drop,
// paste or pick), both together; a grid of results; details with
// "more like this". No dependencies, works offline.
"use strict";

const $ = (id) => document.getElementById(id);
const q = $("q"), drop = $("drop"), file = $("file"), example = $("example");
const results = $("results"), message = $("message"), details = $("details");

let exampleBlob = null;   // the photo to search by example
let seq = 0;              // drops responses of superseded searches
let timer = 0;
let current = null;       // the image shown in the details dialog

function say(text, isError) {
  message.textContent = text || "";
  message.classList.toggle("error", !!isError);
}

// readJSON parses a response body with image ids kept as strings: ids of a
// library in Weaviate are 63-bit numbers, which a JavaScript number would
// round. The API takes them back as strings.
async function readJSON(resp) {
  const text = await resp.text();
  return JSON.parse(text.replace(/"(id|image_id)":\s*(\d+)/g, '"$1":"$2"'));
}

async function apiError(resp) {
  try {
    const body = await resp.json();
    return body.error ? body.error.message : resp.statusText;
  } catch (e) {
    return resp.statusText;
  }
}

function schedule(delay) {
  clearTimeout(timer);
  timer = setTimeout(search, delay);
}

async function search(extra) {
  const text = q.value.trim();
  if (!text && !exampleBlob && !extra) {
    results.replaceChildren();
    say("");
    return;
  }
  const my = ++seq;
  let resp;
  try {
    if (extra) {
      resp = await fetch("/v1/search", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(extra)});
    } else if (exampleBlob) {
      const form = new FormData();
      form.append("image", exampleBlob, "example");
      if (text) form.append("text", text);
      form.append("limit", "48");
      resp = await fetch("/v1/search", {method: "POST", body: form});
    } else {
      resp = await fetch("/v1/search", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({text, limit: 48})});
    }
  } catch (e) {
    if (my === seq) say("The server cannot be reached.", true);
    return;
  }
  if (my !== seq) return;
  if (!resp.ok) {
    say(await apiError(resp), true);
    return;
  }
  const body = await readJSON(resp);
  if (my !== seq) return;
  render(body.results, body.took_ms);
}

function basename(p) {
  const parts = (p || "").split(/[\\/]/);
  return parts[parts.length - 1] || p;
}

function render(list, took) {
  say(list.length ? `${list.length} results in ${Math.round(took)} ms` : "No results.");
  const items = list.map((r, i) => {
    const li = document.createElement("li");
    li.className = "result";
    li.tabIndex = 0;
    li.dataset.id = r.id;
    li.setAttribute("aria-label", `${basename(r.path)}, score ${r.score.toFixed(3)}`);
    const img = document.createElement("img");
    img.loading = "lazy";
    img.alt = basename(r.path);
    img.src = r.thumbnail;
    const cap = document.createElement("div");
    cap.className = "caption";
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = basename(r.path);
    const score = document.createElement("span");
    score.className = "score";
    score.textContent = r.score.toFixed(3);
    cap.append(name, score);
    li.append(img, cap);
    li.addEventListener("click", () => openDetails(r.id));
    li.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); openDetails(r.id); }
      if (ev.key === "ArrowRight" && li.nextElementSibling) li.nextElementSibling.focus();
      if (ev.key === "ArrowLeft" && li.previousElementSibling) li.previousElementSibling.focus();
    });
    return li;
  });
  results.replaceChildren(...items);
}

async function openDetails(id) {
  const resp = await fetch(`/v1/images/${id}`);
  if (!resp.ok) { say(await apiError(resp), true); return; }
  const im = await readJSON(resp);
  current = im;
  $("details-img").src = im.thumbnail;
  $("details-img").alt = basename(im.path);
  $("details-title").textContent = basename(im.path);
  const rows = [
    ["ID", im.id],
    ["Size", `${im.width} × ${im.height} ${im.format.toUpperCase()}, ${(im.size / 1024).toFixed(0)} KiB`],
    ["Paths", im.paths.join("\n")],
    ["Taken", im.taken_at ? new Date(im.taken_at).toLocaleString() : ""],
    ["Camera", im.camera || ""],
    ["GPS", im.gps ? `${im.gps[0].toFixed(5)}, ${im.gps[1].toFixed(5)}` : ""],
    ["Modified", new Date(im.modified).toLocaleString()],
    ["SHA-256", im.sha256],
    ["Model", im.model],
  ].filter(([, v]) => v !== "");
  $("details-meta").replaceChildren(...rows.flatMap(([k, v]) => {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v;
    return [dt, dd];
  }));
  $("open-file").href = im.file;
  details.showModal();
  $("more-like").focus();
}

$("more-like").addEventListener("click", () => {
  if (!current) return;
  details.close();
  q.value = "";
  setExample(null);
  search({image_id: current.id, exclude: [current.id], limit: 48});
});

function setExample(blob) {
  exampleBlob = blob;
  if (blob) {
    example.src = URL.createObjectURL(blob);
    example.hidden = false;
    $("clear-example").hidden = false;
    $("drop-text").hidden = true;
  } else {
    example.hidden = true;
    example.removeAttribute("src");
    $("clear-example").hidden = true;
    $("drop-text").hidden = false;
    file.value = "";
  }
}

function takeFile(f) {
  if (!f) return;
  if (!f.type.startsWith("image/")) { say(`${f.name || "That file"} is not an image.`, true); return; }
  setExample(f);
  search();
}

q.addEventListener("input", () => schedule(250));
q.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); schedule(0); } });
$("search").addEventListener("submit", (ev) => { ev.preventDefault(); schedule(0); });
drop.addEventListener("click", (ev) => { if (ev.target.id !== "clear-example") file.click(); });
drop.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); file.click(); } });
file.addEventListener("change", () => takeFile(file.files[0]));
$("clear-example").addEventListener("click", (ev) => { ev.stopPropagation(); setExample(null); search(); });
for (const type of ["dragenter", "dragover"]) {
  drop.addEventListener(type, (ev) => { ev.preventDefault(); drop.classList.add("over"); });
}
for (const type of ["dragleave", "drop"]) {
  drop.addEventListener(type, () => drop.classList.remove("over"));
}
drop.addEventListener("drop", (ev) => { ev.preventDefault(); takeFile(ev.dataTransfer.files[0]); });
document.addEventListener("paste", (ev) => {
  for (const item of ev.clipboardData.items) {
    if (item.type.startsWith("image/")) { takeFile(item.getAsFile()); ev.preventDefault(); return; }
  }
});
document.addEventListener("keydown", (ev) => {
  if (ev.key === "/" && document.activeElement !== q && !details.open) { ev.preventDefault(); q.focus(); }
});

async function refreshStats() {
  try {
    const resp = await fetch("/v1/stats");
    if (!resp.ok) return;
    const s = await resp.json();
    let text = `${s.images.toLocaleString()} images · ${s.model}`;
    if (s.indexing && s.indexing.active) text += ` · indexing ${s.indexing.done}/${s.indexing.total}`;
    if (s.read_only) text += " · read-only";
    $("stats").textContent = text;
  } catch (e) { /* server restarting: try again later */ }
}
refreshStats();
setInterval(refreshStats, 3000);
