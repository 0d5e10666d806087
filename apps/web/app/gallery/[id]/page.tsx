import { notFound } from "next/navigation";
import { AppError, getPublicImage } from "@lucid/core";
import type { ResolvedGenerationRequest } from "@lucid/contracts";
import { platform } from "../../../lib/platform.ts";

export default async function GalleryImagePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const img = await getPublicImage(platform(), id).catch((err) => {
    if (err instanceof AppError && err.code === "not_found") notFound();
    throw err;
  });
  const req = img.job.request as ResolvedGenerationRequest;
  return (
    <div className="row" style={{ alignItems: "flex-start" }}>
      <img src={`/images/${img.id}`} alt={req.prompt} width={img.width} height={img.height} style={{ maxWidth: 512, borderRadius: 8 }} />
      <div className="card">
        <h2 data-testid="gallery-prompt">{req.prompt}</h2>
        <table>
          <tbody>
            {req.negative_prompt && <tr><th>Negative prompt</th><td>{req.negative_prompt}</td></tr>}
            <tr><th>Size</th><td>{img.width}×{img.height}</td></tr>
            <tr><th>Steps</th><td>{req.steps}</td></tr>
            <tr><th>Guidance</th><td>{req.guidance}</td></tr>
            <tr><th>Seed</th><td>{String(img.seed)}</td></tr>
            <tr><th>Model</th><td>{req.model}</td></tr>
            <tr><th>Published</th><td>{img.publishedAt?.toISOString().slice(0, 16).replace("T", " ")}</td></tr>
          </tbody>
        </table>
      </div>
    </div>
  );
}
