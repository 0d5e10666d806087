import { serveImage } from "../../../lib/images.ts";

export const dynamic = "force-dynamic";

export async function GET(_req: Request, { params }: { params: Promise<{ id: string }> }) {
  return serveImage((await params).id, "full");
}
