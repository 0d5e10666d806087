"use client";

import { useEffect, useState, type FormEvent } from "react";
import { useRouter } from "next/navigation";
import type { Generation, Problem } from "@lucid/contracts";
import { setImagePublicAction } from "../actions.ts";

export interface StudioJob {
  id: string;
  status: Generation["status"];
  prompt: string;
  progress: { step: number; total: number };
  hasPreview: boolean;
  promptTruncated: boolean;
  error: string | null;
  creditsReserved: number;
  creditsCharged: number;
  creditsReleased: number;
  images: Array<{ id: string; width: number; height: number; seed: number; isPublic: boolean }>;
}

const POLL_MS = 500;
const isActive = (s: StudioJob["status"]) => s === "queued" || s === "running";

function fromGeneration(g: Generation, prev?: StudioJob): StudioJob {
  return {
    id: g.id,
    status: g.status,
    prompt: g.request.prompt,
    progress: { step: g.progress.step, total: g.progress.total },
    hasPreview: g.progress.preview_url !== null,
    promptTruncated: g.prompt_truncated,
    error: g.error?.message ?? null,
    creditsReserved: g.credits_reserved,
    creditsCharged: g.credits_charged,
    creditsReleased: g.credits_released,
    images: g.images.map((i) => ({
      id: i.id,
      width: i.width,
      height: i.height,
      seed: i.seed,
      isPublic: prev?.images.find((p) => p.id === i.id)?.isPublic ?? false,
    })),
  };
}

export function Studio({ initialJobs, defaults }: { initialJobs: StudioJob[]; defaults: { width: number; height: number; steps: number } }) {
  const router = useRouter();
  const [jobs, setJobs] = useState(initialJobs);
  const [advanced, setAdvanced] = useState(false);
  const [submitting, setSubmitting] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);

  // Poll unfinished jobs until they end; refresh the header balance when one does.
  const activeIds = jobs.filter((j) => isActive(j.status)).map((j) => j.id).join(",");
  useEffect(() => {
    if (!activeIds) return;
    let stopped = false;
    const timer = setInterval(async () => {
      for (const id of activeIds.split(",")) {
        const res = await fetch(`/api/v1/generations/${id}`, { cache: "no-store" });
        if (!res.ok || stopped) continue;
        const g = (await res.json()) as Generation;
        setJobs((prev) => prev.map((j) => (j.id === id ? fromGeneration(g, j) : j)));
        if (!isActive(g.status)) router.refresh();
      }
    }, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [activeIds, router]);

  async function post(url: string, body?: unknown): Promise<Response> {
    return fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  }

  async function startJob(body: unknown) {
    setSubmitting(true);
    setProblem(null);
    try {
      const res = await post("/api/v1/generations", body);
      const json = await res.json();
      if (!res.ok) {
        setProblem(json as Problem);
        return;
      }
      setJobs((prev) => [fromGeneration(json as Generation), ...prev]);
      router.refresh();
    } finally {
      setSubmitting(false);
    }
  }

  async function cancel(id: string) {
    const res = await post(`/api/v1/generations/${id}/cancel`);
    if (!res.ok) return setProblem((await res.json()) as Problem);
    const { generation } = (await res.json()) as { generation: Generation };
    setJobs((prev) => prev.map((j) => (j.id === id ? fromGeneration(generation, j) : j)));
    router.refresh();
  }

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const num = (name: string) => {
      const v = String(form.get(name) ?? "").trim();
      return v === "" ? undefined : Number(v);
    };
    const body = {
      prompt: String(form.get("prompt") ?? ""),
      ...(advanced
        ? {
            negative_prompt: String(form.get("negative_prompt") ?? ""),
            width: num("width"),
            height: num("height"),
            steps: num("steps"),
            seed: num("seed"),
          }
        : {}),
    };
    await startJob(body);
  }

  return (
    <div>
      <form className="card" onSubmit={submit} noValidate>
        <label htmlFor="prompt">Prompt</label>
        <textarea id="prompt" name="prompt" placeholder="A lighthouse on a cliff at dawn, oil painting" required />
        <p>
          <button type="button" className="link" onClick={() => setAdvanced((a) => !a)} aria-expanded={advanced}>
            {advanced ? "Hide advanced" : "Advanced"}
          </button>
        </p>
        {advanced && (
          <div>
            <label htmlFor="negative_prompt">Negative prompt</label>
            <input id="negative_prompt" name="negative_prompt" placeholder="blurry, low quality" />
            <div className="row">
              <div><label htmlFor="width">Width</label><input id="width" name="width" type="number" step={8} defaultValue={defaults.width} /></div>
              <div><label htmlFor="height">Height</label><input id="height" name="height" type="number" step={8} defaultValue={defaults.height} /></div>
              <div><label htmlFor="steps">Steps</label><input id="steps" name="steps" type="number" defaultValue={defaults.steps} /></div>
              <div><label htmlFor="seed">Seed</label><input id="seed" name="seed" type="number" placeholder="random" /></div>
            </div>
          </div>
        )}
        {problem && (
          <div className="error" role="alert">
            <strong>{problem.title}:</strong> {problem.detail}
          </div>
        )}
        <p><button type="submit" disabled={submitting}>{submitting ? "Submitting…" : "Generate"}</button></p>
      </form>

      <section className="jobs" aria-label="Your generations">
        {jobs.length === 0 && <p className="muted">Your images will appear here.</p>}
        {jobs.map((job) => (
          <article key={job.id} className="card job" data-testid="job" data-job-id={job.id} data-status={job.status}>
            <div className="row">
              <span className={`status ${job.status}`} data-testid="job-status">{job.status}</span>
              <span className="muted" style={{ flex: 4 }}>{job.prompt}</span>
            </div>
            {isActive(job.status) && (
              <p><button type="button" className="secondary" onClick={() => cancel(job.id)}>Cancel</button></p>
            )}
            {job.status === "running" && job.hasPreview && (
              <img
                src={`/api/v1/generations/${job.id}/preview?step=${job.progress.step}`}
                alt="Live preview"
                data-testid="job-preview"
                style={{ maxWidth: 256, imageRendering: "pixelated" }}
              />
            )}
            {job.status === "running" && (
              <>
                <div className="progress"><div style={{ width: `${(100 * job.progress.step) / Math.max(1, job.progress.total)}%` }} /></div>
                <span className="muted" data-testid="job-progress">Step {job.progress.step} of {job.progress.total}</span>
              </>
            )}
            {job.status === "queued" && <span className="muted">Waiting for a GPU…</span>}
            {job.status === "canceled" && (
              <p className="muted">Canceled — you were not charged ({job.creditsReleased} credits returned).</p>
            )}
            {job.promptTruncated && <p className="notice">The prompt was longer than the model reads (75 tokens); the end was cut.</p>}
            {job.status === "failed" && (
              <p className="error">Failed: {job.error} — you were not charged ({job.creditsReleased} credits returned).</p>
            )}
            {job.status === "succeeded" && (
              <>
                <div className="grid">
                  {job.images.map((img) => (
                    <figure key={img.id} style={{ margin: 0 }}>
                      <img src={`/images/${img.id}`} alt={job.prompt} width={img.width} height={img.height} data-testid="job-image" />
                      <figcaption className="row">
                        <span className="muted">seed {img.seed}</span>
                        <button
                          type="button"
                          className="secondary"
                          onClick={async () => {
                            // The choice is the one this button showed, and the state follows the server's answer.
                            const isPublic = await setImagePublicAction(img.id, !img.isPublic);
                            setJobs((prev) =>
                              prev.map((j) => (j.id !== job.id ? j : { ...j, images: j.images.map((i) => (i.id === img.id ? { ...i, isPublic } : i)) })),
                            );
                          }}
                        >
                          {img.isPublic ? "Unpublish" : "Publish"}
                        </button>
                        <button
                          type="button"
                          className="secondary"
                          disabled={submitting}
                          onClick={() => startJob({ prompt: job.prompt, init_image_id: img.id, strength: 0.6, width: img.width, height: img.height })}
                        >
                          Make variations
                        </button>
                      </figcaption>
                    </figure>
                  ))}
                </div>
                <span className="muted">Charged {job.creditsCharged} credits.</span>
              </>
            )}
          </article>
        ))}
      </section>
    </div>
  );
}
