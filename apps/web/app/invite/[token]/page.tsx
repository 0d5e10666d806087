import { notFound } from "next/navigation";
import { AppError, getInvite } from "@lucid/core";
import { platform } from "../../../lib/platform.ts";
import { currentViewer } from "../../../lib/session.ts";
import { signOutAction } from "../../actions.ts";
import { AcceptInviteForm, JoinForm } from "./invite-forms.tsx";

const ENDED = {
  expired: "This invite has expired. Ask for a new one.",
  accepted: "This invite has already been used.",
  revoked: "This invite was revoked. Ask for a new one.",
} as const;

// Public on purpose: the unguessable token in the link is the capability, and
// the invitee may not have an account yet. Unknown tokens are 404.
export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const invite = await getInvite(platform(), token).catch((err) => {
    if (err instanceof AppError && err.code === "not_found") notFound();
    throw err;
  });
  const viewer = await currentViewer();
  return (
    <div className="narrow">
      <div className="card">
        <h1>Join {invite.workspaceName}</h1>
        <p data-testid="invite-summary">
          <strong>{invite.email}</strong> is invited to the team workspace <strong>{invite.workspaceName}</strong> as <strong>{invite.role}</strong>.
        </p>
        {invite.state !== "pending" ? (
          <p className="notice" data-testid="invite-state">{ENDED[invite.state]}</p>
        ) : viewer && viewer.user.email === invite.email ? (
          <AcceptInviteForm token={token} />
        ) : viewer ? (
          <>
            <p className="notice" data-testid="invite-state">
              You are signed in as {viewer.user.email}, but this invite is for {invite.email}. Sign out and sign in with that address to accept it.
            </p>
            <form action={signOutAction}><button type="submit" className="secondary">Sign out</button></form>
          </>
        ) : null}
      </div>
      {invite.state === "pending" && !viewer && (
        <>
          <JoinForm token={token} email={invite.email} mode="signup" />
          <JoinForm token={token} email={invite.email} mode="signin" />
        </>
      )}
    </div>
  );
}
