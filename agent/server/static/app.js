// The confidante web chat: plain JavaScript, no dependencies, talks only to this server.
// Model and memory text is always set with textContent, never parsed as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
// How long a forgotten memory can be taken back before it is deleted on the server.
const UNDO_MS = 6000;
// Forgets not yet sent ({id, key}), kept across reloads: the next page sends them first.
const FORGETTING = "confidante.forgetting";

const state = {
  key: localStorage.getItem("confidante.key") || "",
  session: localStorage.getItem("confidante.session") || "web",
  turns: [],       // {recalled, remembered, past} per assistant reply, in order
  selected: -1,
  memories: [],    // the last listing of "Your memories"
  forgotten: new Set(),
  pending: new Map(),  // id -> {id, key, timer}: forgotten, still undoable
  unsent: [],      // forgets of an earlier page that could not be sent yet
  ready: Promise.resolve(),
};

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

async function errorMessage(response) {
  let message = response.status + " " + response.statusText;
  try { message = (await response.json()).error.message; } catch (_) { /* not JSON */ }
  return message;
}

// Calls the API and returns its parsed JSON (or, with stream = true, the response to read).
async function api(method, path, body, stream = false) {
  const headers = { Authorization: "Bearer " + state.key, "X-Session-Id": state.session };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(await errorMessage(response));
  return stream ? response : response.json();  // always read the body to its end
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(className, text, title, onClick) {
  const node = el("button", className, text);
  node.type = "button";
  node.title = title;
  node.addEventListener("click", onClick);
  return node;
}

// ---------------------------------------------------------------- memory items
function itemRow(item, withScore) {
  const li = el("li");
  li.dataset.id = item.id;
  const gone = state.forgotten.has(item.id), pending = state.pending.has(item.id);
  if (gone) li.classList.add("forgotten");
  else if (pending) li.classList.add("pending");
  li.append(el("span", "text", item.text));
  if (withScore && item.score) li.append(el("span", "score", item.score.toFixed(2)));
  if (pending) {
    li.append(button("undo", "undo", "Keep this memory (it is about to be forgotten)",
      () => undoForget(item.id)));
  } else if (!gone) {
    li.append(
      button("edit", "edit", "Edit this memory", () => startEdit(li, item)),
      button("forget", "forget", "Forget this memory", () => forgetItem(item.id)),
    );
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
  const save = button("save", "save", "Save the new text", () => commit());
  const cancel = button("cancel", "cancel", "Keep the text as it is", () => renderAll());
  li.replaceChildren(input, save, cancel);
  input.focus();
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
  input.addEventListener("keydown", (event) => { if (event.key === "Enter") commit(); });
}

// ------------------------------------------- forgetting, with a few seconds to undo
// Deletes a memory with the key that forgot it; a 404 means it is already gone.
async function deleteMemory(id, key, keepalive = false) {
  const response = await fetch("/v1/memories/" + encodeURIComponent(id), {
    method: "DELETE", keepalive, headers: { Authorization: "Bearer " + key },
  });
  if (!response.ok && response.status !== 404) throw new Error(await errorMessage(response));
  await response.text();
}

function saveForgets() {
  const waiting = [...state.pending.values()].map(({ id, key }) => ({ id, key }));
  const all = [...state.unsent, ...waiting];
  if (all.length) localStorage.setItem(FORGETTING, JSON.stringify(all));
  else localStorage.removeItem(FORGETTING);
}

// Sends the forgets an earlier page left (closed or reloaded before their undo time was up).
async function sendLeftForgets() {
  let left = [];
  try { left = JSON.parse(localStorage.getItem(FORGETTING) || "[]"); } catch (_) { left = []; }
  state.unsent = [];
  for (const entry of Array.isArray(left) ? left : []) {
    try { await deleteMemory(entry.id, entry.key); } catch (_) { state.unsent.push(entry); }
  }
  saveForgets();
}

function forgetItem(id) {
  if (state.pending.has(id) || state.forgotten.has(id)) return;
  const entry = { id, key: state.key, timer: null };
  entry.timer = setTimeout(() => sendForget(id), UNDO_MS);
  state.pending.set(id, entry);
  saveForgets();
  renderAll();
}

function undoForget(id) {
  const entry = state.pending.get(id);
  if (!entry || entry.timer === null) return;  // already on its way
  clearTimeout(entry.timer);
  state.pending.delete(id);
  saveForgets();
  renderAll();
}

async function sendForget(id) {
  const entry = state.pending.get(id);
  if (!entry) return;
  entry.timer = null;
  try {
    await deleteMemory(id, entry.key);
    state.forgotten.add(id);
    showError("");
  } catch (error) {
    showError("Not forgotten (" + error.message + "): the memory is kept.");
  }
  state.pending.delete(id);
  saveForgets();
  renderPanel();
  await loadMemories();
}

async function loadMemories() {
  if (!state.key) return;
  try {
    const listed = await api("GET", "/v1/memories");
    state.memories = listed.data;
    renderMemories();
  } catch (error) { showError(error.message); }
}

function renderMemories() {
  const shown = state.memories.filter((item) => !state.forgotten.has(item.id));
  fillList($("memories"), shown, false, "No memories yet.");
}

function renderPanel() {
  const turn = state.turns[state.selected];
  const none = turn && turn.past ? "Not kept for replies before a reload." : null;
  fillList($("recalled"), turn ? turn.recalled : [], true, none || "Nothing recalled.");
  fillList($("remembered"), turn ? turn.remembered : [], false, none || "Nothing new remembered.");
  document.querySelectorAll("#log li.assistant").forEach((node) => {
    node.classList.toggle("selected", Number(node.dataset.turn) === state.selected);
  });
}

function renderAll() {
  renderPanel();
  renderMemories();
}

// ---------------------------------------------------------------------- chat
function addMessage(role, text) {
  const li = el("li", role, text);
  $("log").append(li);
  li.scrollIntoView({ block: "end" });
  return li;
}

function addReply(text, turn) {
  const index = state.turns.length;
  state.turns.push(turn);
  const bubble = addMessage("assistant", text);
  bubble.dataset.turn = String(index);
  bubble.addEventListener("click", () => { state.selected = index; renderPanel(); });
  return { bubble, index };
}

// Shows the conversation the server keeps for this key's user and session.
async function loadConversation() {
  const listed = await api("GET", "/v1/chat/messages");
  $("log").replaceChildren();
  state.turns = [];
  state.selected = -1;
  for (const message of listed.data) {
    if (message.role === "user") addMessage("user", message.content);
    else addReply(message.content, { recalled: [], remembered: [], past: true })
      .bubble.classList.add("done", "past");
  }
  renderPanel();
}

function applyEvent(turn, info) {
  if (info.recalled) turn.recalled = info.recalled;
  if (info.remembered) turn.remembered = info.remembered;
  if (info.usage) turn.usage = info.usage;
}

// "123 tokens · 1.4 s" under a reply: all the turn's model calls (reply, extraction...).
function usageText(usage) {
  const kinds = Object.entries(usage.by_kind || {})
    .map(([kind, part]) => `${kind} ${part.total_tokens}`).join(", ");
  const total = `${usage.total_tokens} tokens · ${usage.seconds.toFixed(1)} s`;
  return kinds ? `${total} (${kinds})` : total;
}

function showUsage(bubble, usage) {
  if (!usage) return;
  const note = el("small", "usage", usageText(usage));
  note.title = `${usage.calls} model calls: ${usage.prompt_tokens} prompt + `
    + `${usage.completion_tokens} completion tokens`;
  bubble.append(note);
}

// Reads the server-sent events of a streamed reply, calling onChunk with each parsed chunk.
async function readEvents(response, onChunk) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      for (const line of event.split("\n")) {
        if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
        const chunk = JSON.parse(line.slice(6));
        if (chunk.error) throw new Error(chunk.error.message);
        onChunk(chunk);
      }
    }
  }
}

async function send(text) {
  addMessage("user", text);
  const turn = { recalled: [], remembered: [] };
  const { bubble, index } = addReply("…", turn);
  state.selected = index;
  renderPanel();
  let reply = "";
  try {
    const response = await api("POST", "/v1/chat/completions", {
      model: "confidante", stream: true, messages: [{ role: "user", content: text }],
    }, true);
    await readEvents(response, (chunk) => {
      const delta = chunk.choices && chunk.choices[0] ? chunk.choices[0].delta : {};
      if (delta && delta.content) {
        reply += delta.content;
        bubble.textContent = reply;  // the tokens as the model writes them
        bubble.classList.add("streaming");
        bubble.scrollIntoView({ block: "end" });
      }
      if (chunk.confidante) { applyEvent(turn, chunk.confidante); renderPanel(); }
    });
  } catch (error) {
    bubble.textContent = reply || "(no reply)";
    bubble.classList.remove("streaming");
    bubble.classList.add("failed");
    throw error;
  }
  bubble.textContent = reply || "(no reply)";
  showUsage(bubble, turn.usage);
  bubble.classList.remove("streaming");
  bubble.classList.add("done");
  renderPanel();
  await loadMemories();
}

// ---------------------------------------------------------------------- wiring
async function useKey(key) {
  state.key = key.trim();
  localStorage.setItem("confidante.key", state.key);
  $("whoami").textContent = "";
  $("log").replaceChildren();
  state.turns = [];
  state.selected = -1;
  state.memories = [];
  renderAll();
  if (!state.key) return;
  try {
    await api("GET", "/v1/models");
    await loadConversation();
    showError("");
    await loadMemories();
    $("whoami").textContent = "connected";  // once the conversation and memories are shown
  } catch (error) { $("whoami").textContent = ""; showError(error.message); }
}

document.addEventListener("DOMContentLoaded", () => {
  const leftForgets = sendLeftForgets();
  $("api-key").value = state.key;
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.ready = leftForgets.then(() => useKey($("api-key").value));
  });
  $("chat-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("message").value.trim();
    if (!text) return;
    if (!state.key) { showError("Enter your API key first."); return; }
    $("message").value = "";
    $("send").disabled = true;
    try {
      showError("");
      await state.ready;  // the earlier conversation is shown first
      await send(text);
    } catch (error) { showError(error.message); }
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
  // Leaving (closing, reloading) sends what waits for its undo time; the next page checks.
  window.addEventListener("pagehide", () => {
    for (const entry of state.pending.values()) {
      if (entry.timer !== null) deleteMemory(entry.id, entry.key, true).catch(() => {});
    }
  });
  state.ready = leftForgets.then(() => (state.key ? useKey(state.key) : undefined));
});
