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

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".job[data-follow]").forEach(followJob);
});
