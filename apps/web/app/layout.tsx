import type { ReactNode } from "react";
import Link from "next/link";
import "./globals.css";
import { currentViewer } from "../lib/session.ts";
import { signOutAction } from "./actions.ts";
import { isOperator, listUserWorkspaces } from "@lucid/core";
import { platform } from "../lib/platform.ts";
import { WorkspaceSwitcher } from "./components/workspace-switcher.tsx";
import { VerifyEmailBanner } from "./components/verify-email-banner.tsx";

export const metadata = { title: "Lucid", description: "Text-to-image generation you can run yourself" };
export const dynamic = "force-dynamic";

export default async function RootLayout({ children }: { children: ReactNode }) {
  const viewer = await currentViewer().catch(() => null);
  const workspaces = viewer ? await listUserWorkspaces(platform(), viewer.user.id).catch(() => []) : [];
  const operator = viewer ? await isOperator(platform(), viewer.user.id).catch(() => false) : false;
  return (
    <html lang="en">
      <body>
        <header className="top">
          <Link href="/" className="brand">Lucid</Link>
          <nav>
            <Link href="/gallery">Gallery</Link>
            <Link href="/docs/api">API docs</Link>
            {viewer ? (
              <>
                <Link href="/studio">Studio</Link>
                <Link href="/billing">Billing</Link>
                <Link href="/usage">Usage</Link>
                <Link href="/settings/keys">API keys</Link>
                <Link href="/settings/webhooks">Webhooks</Link>
                <Link href="/settings/workspace">Workspace</Link>
                {operator && <Link href="/admin">Admin</Link>}
                <WorkspaceSwitcher workspaces={workspaces} currentId={viewer.workspace.id} />
                <span className="balance" data-testid="balance">{viewer.workspace.creditBalance} credits</span>
                <span className="muted">{viewer.user.email}</span>
                <form action={signOutAction}><button type="submit" className="link">Sign out</button></form>
              </>
            ) : (
              <>
                <Link href="/signin">Sign in</Link>
                <Link href="/signup" className="button">Sign up</Link>
              </>
            )}
          </nav>
        </header>
        <main>
          {viewer && !viewer.user.emailVerified && (
            <VerifyEmailBanner email={viewer.user.email} required={platform().config.requireEmailVerification ?? false} />
          )}
          {children}
        </main>
      </body>
    </html>
  );
}
