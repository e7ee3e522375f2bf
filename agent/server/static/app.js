// The confidante web chat: plain JavaScript, no dependencies, talks only to this server.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  key: localStorage.getItem("confidante.key") || "",
  session: localStorage.getItem("confidante.session") || "web",
  turns: [],       // {recalled, remembered} per assistant reply, in order
  selected: -1,
  forgotten: new Set(),
};

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

// Calls the API and returns its parsed JSON (or, with stream = true, the response to read).
async function api(method, path, body, stream = false) {
  const headers = { Authorization: "Bearer " + state.key, "X-Session-Id": state.session };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    let message = response.status + " " + response.statusText;
    try { message = (await response.json()).error.message; } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  return stream ? response : response.json();  // always read the body to its end
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// ---------------------------------------------------------------- memory items
function itemRow(item, withScore) {
  const li = el("li");
  li.dataset.id = item.id;
  if (state.forgotten.has(item.id)) li.classList.add("forgotten");
  li.append(el("span", "text", item.text));
  if (withScore && item.score) li.append(el("span", "score", item.score.toFixed(2)));
  if (!state.forgotten.has(item.id)) {
    const edit = el("button", "edit", "edit");
    edit.type = "button";
    edit.title = "Edit this memory";
    edit.addEventListener("click", () => startEdit(li, item));
    const forget = el("button", "forget", "forget");
    forget.type = "button";
    forget.title = "Forget this memory";
    forget.addEventListener("click", () => forgetItem(item.id));
    li.append(edit, forget);
  }
  return li;
}

function fillList(list, items, withScore, emptyText) {
  list.replaceChildren();
  if (!items.length) { list.append(el("li", "empty", emptyText)); return; }
  for (const item of items) list.append(itemRow(item, withScore));
}

function startEdit(li, item) {
  const input = el("input");
  input.value = item.text;
  input.className = "edit-text";
  const save = el("button", "save", "save");
  save.type = "button";
  const cancel = el("button", "cancel", "cancel");
  cancel.type = "button";
  li.replaceChildren(input, save, cancel);
  input.focus();
  cancel.addEventListener("click", () => renderPanel());
  const commit = async () => {
    try {
      const updated = await api("PATCH", "/v1/memories/" + encodeURIComponent(item.id),
        { text: input.value });
      for (const turn of state.turns) {
        for (const list of [turn.recalled, turn.remembered]) {
          for (const entry of list) if (entry.id === updated.id) entry.text = updated.text;
        }
      }
      showError("");
      renderPanel();
      await loadMemories();
    } catch (error) { showError(error.message); }
  };
  save.addEventListener("click", commit);
  input.addEventListener("keydown", (event) => { if (event.key === "Enter") commit(); });
}

async function forgetItem(id) {
  try {
    await api("DELETE", "/v1/memories/" + encodeURIComponent(id));
    state.forgotten.add(id);
    showError("");
    renderPanel();
    await loadMemories();
  } catch (error) { showError(error.message); }
}

async function loadMemories() {
  if (!state.key) return;
  try {
    const listed = await api("GET", "/v1/memories");
    fillList($("memories"), listed.data, false, "No memories yet.");
  } catch (error) { showError(error.message); }
}

function renderPanel() {
  const turn = state.turns[state.selected];
  fillList($("recalled"), turn ? turn.recalled : [], true, "Nothing recalled.");
  fillList($("remembered"), turn ? turn.remembered : [], false, "Nothing new remembered.");
  document.querySelectorAll("#log li.assistant").forEach((node) => {
    node.classList.toggle("selected", Number(node.dataset.turn) === state.selected);
  });
}

// ---------------------------------------------------------------------- chat
function addMessage(role, text) {
  const li = el("li", role, text);
  $("log").append(li);
  li.scrollIntoView({ block: "end" });
  return li;
}

function applyEvent(turn, info) {
  if (info.recalled) turn.recalled = info.recalled;
  if (info.remembered) turn.remembered = info.remembered;
}

async function send(text) {
  addMessage("user", text);
  const index = state.turns.length;
  const turn = { recalled: [], remembered: [] };
  state.turns.push(turn);
  state.selected = index;
  const bubble = addMessage("assistant", "…");
  bubble.dataset.turn = String(index);
  bubble.addEventListener("click", () => { state.selected = index; renderPanel(); });
  renderPanel();
  const response = await api("POST", "/v1/chat/completions", {
    model: "confidante", stream: true, messages: [{ role: "user", content: text }],
  }, true);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "", reply = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      for (const line of event.split("\n")) {
        if (!line.startsWith("data: ")) continue;
        const data = line.slice(6);
        if (data === "[DONE]") continue;
        const chunk = JSON.parse(data);
        if (chunk.error) throw new Error(chunk.error.message);
        const delta = chunk.choices && chunk.choices[0] ? chunk.choices[0].delta : {};
        if (delta && delta.content) { reply += delta.content; bubble.textContent = reply; }
        if (chunk.confidante) { applyEvent(turn, chunk.confidante); renderPanel(); }
      }
    }
  }
  bubble.textContent = reply || "(no reply)";
  bubble.classList.add("done");
  renderPanel();
  await loadMemories();
}

// ---------------------------------------------------------------------- wiring
async function useKey(key) {
  state.key = key.trim();
  localStorage.setItem("confidante.key", state.key);
  $("whoami").textContent = "";
  if (!state.key) return;
  try {
    await api("GET", "/v1/models");
    $("whoami").textContent = "connected";
    showError("");
    await loadMemories();
  } catch (error) { $("whoami").textContent = ""; showError(error.message); }
}

document.addEventListener("DOMContentLoaded", () => {
  $("api-key").value = state.key;
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    useKey($("api-key").value);
  });
  $("chat-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("message").value.trim();
    if (!text) return;
    if (!state.key) { showError("Enter your API key first."); return; }
    $("message").value = "";
    $("send").disabled = true;
    try { showError(""); await send(text); } catch (error) { showError(error.message); }
    $("send").disabled = false;
    $("message").focus();
  });
  $("message").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("chat-form").requestSubmit();
    }
  });
  $("add-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("new-memory").value.trim();
    if (!text) return;
    try {
      await api("POST", "/v1/memories", { text });
      $("new-memory").value = "";
      showError("");
      await loadMemories();
    } catch (error) { showError(error.message); }
  });
  $("refresh").addEventListener("click", loadMemories);
  if (state.key) useKey(state.key);
});
