import type { Image, Job } from "@lucid/db";
import { AppError, notFound } from "./errors.ts";
import { isUuid } from "./jobs.ts";
import type { Platform } from "./platform.ts";

export async function publishImage(p: Platform, workspaceId: string, imageId: string): Promise<void> {
  if (!isUuid(imageId)) throw notFound("image");
  const r = await p.db.image.updateMany({
    where: { id: imageId, workspaceId, visibility: "private" },
    data: { visibility: "public", publishedAt: new Date() },
  });
  if (r.count === 0 && !(await p.db.image.findFirst({ where: { id: imageId, workspaceId } }))) throw notFound("image");
}

export async function unpublishImage(p: Platform, workspaceId: string, imageId: string): Promise<void> {
  if (!isUuid(imageId)) throw notFound("image");
  const r = await p.db.image.updateMany({ where: { id: imageId, workspaceId }, data: { visibility: "private", publishedAt: null } });
  if (r.count === 0) throw notFound("image");
}

export type GalleryImage = Image & { job: Job };

function encodeCursor(img: Image): string {
  return Buffer.from(`${img.publishedAt!.toISOString()}|${img.id}`).toString("base64url");
}
function decodeCursor(cursor: string): { publishedAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, "base64url").toString().split("|");
  const publishedAt = new Date(at ?? "");
  if (!id || !isUuid(id) || Number.isNaN(publishedAt.getTime())) {
    throw new AppError("validation_failed", "cursor is not valid", [{ field: "cursor", message: "is not valid" }]);
  }
  return { publishedAt, id };
}

/** Public images, newest first, keyset-paginated on (publishedAt, id). */
export async function listPublicImages(p: Platform, opts: { cursor?: string; limit?: number } = {}) {
  const limit = Math.min(Math.max(opts.limit ?? 24, 1), 100);
  const after = opts.cursor ? decodeCursor(opts.cursor) : null;
  const images = await p.db.image.findMany({
    where: {
      visibility: "public",
      ...(after
        ? { OR: [{ publishedAt: { lt: after.publishedAt } }, { publishedAt: after.publishedAt, id: { lt: after.id } }] }
        : {}),
    },
    orderBy: [{ publishedAt: "desc" }, { id: "desc" }],
    take: limit + 1,
    include: { job: true },
  });
  const page = images.slice(0, limit);
  return { images: page, nextCursor: images.length > limit ? encodeCursor(page[page.length - 1]!) : null };
}

export async function getPublicImage(p: Platform, imageId: string): Promise<GalleryImage> {
  if (!isUuid(imageId)) throw notFound("image");
  const img = await p.db.image.findFirst({ where: { id: imageId, visibility: "public" }, include: { job: true } });
  if (!img) throw notFound("image");
  return img;
}

/** An image the viewer may see: public, or in one of their workspaces. Anything else is "not found". */
export async function getViewableImage(p: Platform, imageId: string, viewerWorkspaceIds: string[]): Promise<Image> {
  if (!isUuid(imageId)) throw notFound("image");
  const img = await p.db.image.findFirst({
    where: { id: imageId, OR: [{ visibility: "public" }, { workspaceId: { in: viewerWorkspaceIds } }] },
  });
  if (!img) throw notFound("image");
  return img;
}
