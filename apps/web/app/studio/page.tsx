import { listJobs } from "@lucid/core";
import { platform } from "../../lib/platform.ts";
import { requireViewer } from "../../lib/session.ts";
import { Studio, type StudioJob } from "./studio.tsx";

export default async function StudioPage() {
  const viewer = await requireViewer();
  const p = platform();
  const jobs = await listJobs(p, viewer.workspace.id, 20);
  const initial: StudioJob[] = jobs.map((j) => ({
    id: j.id,
    status: j.status,
    prompt: (j.request as { prompt: string }).prompt,
    progress: { step: j.progressStep, total: j.progressTotal },
    hasPreview: j.status === "running" && j.previewKey !== null,
    promptTruncated: j.promptTruncated,
    error: j.errorMessage,
    creditsReserved: j.creditsReserved,
    creditsCharged: j.creditsCharged,
    creditsReleased: j.creditsReleased,
    images: j.images.map((i) => ({ id: i.id, width: i.width, height: i.height, seed: Number(i.seed), isPublic: i.visibility === "public" })),
  }));
  return (
    <>
      {p.config.model.id === "lucid-tiny" && (
        <p className="notice" data-testid="test-model-notice">
          This server runs <strong>lucid-tiny</strong>, a tiny test model with random weights: its images are noise. See the README to run a real model such as SD-Turbo.
        </p>
      )}
      <Studio initialJobs={initial} defaults={p.config.model.defaults} />
    </>
  );
}
