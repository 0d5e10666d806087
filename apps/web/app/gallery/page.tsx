import Link from "next/link";
import { listPublicImages } from "@lucid/core";
import { platform } from "../../lib/platform.ts";

export default async function GalleryPage({ searchParams }: { searchParams: Promise<{ cursor?: string }> }) {
  const { cursor } = await searchParams;
  const page = await listPublicImages(platform(), { cursor, limit: 24 });
  return (
    <div>
      <h1>Gallery</h1>
      {page.images.length === 0 && <p className="muted">Nothing published yet.</p>}
      <div className="grid">
        {page.images.map((img) => (
          <Link key={img.id} href={`/gallery/${img.id}`} data-testid="gallery-item">
            <img src={`/images/${img.id}/thumbnail`} alt={(img.job.request as { prompt: string }).prompt} width={img.width} height={img.height} />
          </Link>
        ))}
      </div>
      {page.nextCursor && (
        <p><Link href={`/gallery?cursor=${page.nextCursor}`} data-testid="gallery-next">Older images →</Link></p>
      )}
    </div>
  );
}
