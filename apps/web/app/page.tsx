import Link from "next/link";
import { redirect } from "next/navigation";
import { currentViewer } from "../lib/session.ts";

export default async function Home() {
  if (await currentViewer()) redirect("/studio");
  return (
    <div className="narrow card">
      <h1>Lucid</h1>
      <p>Type a prompt, get an image. Open source text-to-image generation you can run yourself.</p>
      <p className="row">
        <Link className="button" href="/signup">Create an account</Link>
        <Link href="/signin">Sign in</Link>
        <Link href="/gallery">Browse the gallery</Link>
      </p>
    </div>
  );
}
