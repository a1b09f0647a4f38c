// Axon dashboard: progressive enhancement of server-rendered pages. Every page works
// without this script; with it, jobs are followed live, prompts stream and feedback
// is sent in place. Our own code, no library.
"use strict";

const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;
const FINISHED = new Set(["succeeded", "failed", "cancelled"]);

function followJob(box) {
  const id = box.dataset.job;
  const state = box.querySelector('[data-field="state"]');
  const bar = box.querySelector('[data-field="bar"]');
  const count = box.querySelector('[data-field="count"]');
  const tick = async () => {
    let job;
    try {
      const response = await fetch(`/api/v1/jobs/${encodeURIComponent(id)}`, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) return setTimeout(tick, 2000);
      job = await response.json();
    } catch (err) {
      return setTimeout(tick, 2000);
    }
    state.textContent = job.state;
    state.className = `state state-${job.state}`;
    const progress = progressOf(job);
    if (progress) {
      bar.max = progress[1];
      bar.value = progress[0];
      count.textContent = `${progress[0].toLocaleString()}/${progress[1].toLocaleString()}`;
    }
    if (FINISHED.has(job.state)) {
      window.location.reload(); // the finished page shows the result
    } else {
      setTimeout(tick, 700);
    }
  };
  tick();
}

// The same reading of a job's progress as axon/ui/jobs.py's progress_of.
function progressOf(job) {
  const p = job.progress || {};
  if (p.filesTotal) return [p.filesSeen || 0, p.filesTotal];
  const v = p.embeddings || {};
  if (v.total) return [v.done || 0, v.total];
  return null;
}

// Server-sent events from a fetch body: yields {event, data} as each one completes.
async function* readEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (data) yield { event, data: JSON.parse(data) };
    }
  }
}

function postJson(url, body) {
  return fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      "X-CSRF-Token": csrfToken(),
    },
    body: JSON.stringify(body),
  });
}

function injectedText(prompt) {
  const parts = [];
  if (prompt.system) parts.push(`[system]\n${prompt.system}`);
  for (const m of prompt.messages) parts.push(`[${m.role}]\n${m.content}`);
  return parts.join("\n");
}

function errorMessage(body) {
  return (body && body.error && body.error.message) || "the request failed";
}

// The prompt form streams its answer through the API instead of reloading the page.
function streamPrompts(form) {
  const result = document.getElementById("result");
  const answer = document.getElementById("answer");
  const meta = document.getElementById("answer-meta");
  const problem = document.getElementById("prompt-error");
  const receipt = document.getElementById("receipt");
  const injected = document.getElementById("injected");
  const injectedBox = document.getElementById("injected-box");
  const feedback = document.getElementById("feedback");
  const run = document.getElementById("run");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const fields = new FormData(form);
    const body = {
      prompt: fields.get("prompt"),
      workspaceId: fields.get("workspace"),
      stream: true,
    };
    if (fields.get("budget")) body.budget = Number(fields.get("budget"));
    if (fields.get("model")) body.model = fields.get("model");
    result.hidden = false;
    answer.textContent = "";
    meta.textContent = "streaming…";
    problem.hidden = true;
    receipt.textContent = "";
    injectedBox.hidden = true;
    if (feedback) feedback.hidden = true;
    run.disabled = true;
    try {
      const response = await postJson("/api/v1/prompts/process", body);
      if (!response.ok) throw new Error(errorMessage(await response.json()));
      for await (const { event, data } of readEvents(response)) {
        if (event === "context") {
          const html = await postJson("/ui/receipt", { report: data.report });
          if (html.ok) receipt.innerHTML = await html.text(); // rendered and escaped by the server
        } else if (event === "token") {
          answer.textContent += data.text;
        } else if (event === "done") {
          meta.textContent = `${data.provider} · ${data.model} · ${data.mode}`;
          if (!data.response) answer.textContent = "(context only: no model configured, the prompt below is the answer)";
          injected.textContent = injectedText(data.prompt);
          injectedBox.hidden = false;
          if (feedback) {
            feedback.dataset.interaction = data.interactionId;
            feedback.hidden = false;
          }
        } else if (event === "error") {
          throw new Error(errorMessage(data));
        }
      }
    } catch (err) {
      problem.textContent = err.message;
      problem.hidden = false;
      meta.textContent = "";
    } finally {
      run.disabled = false;
    }
  });
}

// Votes go to the API's feedback route; each used context's confidence shows old → new.
function sendFeedback(box) {
  const status = document.getElementById("feedback-status");
  box.querySelectorAll("form.vote").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const helpful = form.querySelector("button").dataset.helpful === "true";
      const id = encodeURIComponent(box.dataset.interaction);
      box.querySelectorAll("button").forEach((b) => { b.disabled = true; });
      const response = await postJson(`/api/v1/interactions/${id}/feedback`, { helpful });
      const body = await response.json();
      if (!response.ok) {
        status.textContent = errorMessage(body);
        return;
      }
      const changed = Object.entries(body.contextConfidence || {});
      for (const [contextId, value] of changed) {
        const cell = document.querySelector(`tr[data-context="${CSS.escape(contextId)}"] [data-field="confidence"]`);
        if (cell) cell.textContent = `${cell.textContent.trim()} → ${value.toFixed(3)}`;
      }
      status.textContent = `Thanks: ${changed.length} context${changed.length === 1 ? "" : "s"} updated.`;
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".job[data-follow]").forEach(followJob);
  const form = document.getElementById("prompt-form");
  if (form) streamPrompts(form);
  const feedback = document.getElementById("feedback");
  if (feedback) sendFeedback(feedback);
});
