import { WEBHOOK_EVENT_TYPES } from "@lucid/contracts";
import { listWebhookAttempts, listWebhookEndpoints } from "@lucid/core";
import { platform } from "../../../lib/platform.ts";
import { requireViewer } from "../../../lib/session.ts";
import { deleteEndpointAction, setEndpointEnabledAction } from "./actions.ts";
import { CreateEndpointForm } from "./create-endpoint-form.tsx";
import { RevealSecret } from "./reveal-secret.tsx";

const when = (d: Date) => d.toISOString().slice(0, 19).replace("T", " ");

export default async function WebhooksPage() {
  const viewer = await requireViewer();
  const p = platform();
  const endpoints = await listWebhookEndpoints(p, viewer.workspace.id);
  const attempts = new Map(await Promise.all(endpoints.map(async (e) => [e.id, await listWebhookAttempts(p, viewer.workspace.id, e.id, 50)] as const)));
  const disabledByFailures = endpoints.filter((e) => !e.enabled && e.disabledReason);
  const isOwner = viewer.role === "owner";
  return (
    <div>
      <h1>Webhooks</h1>
      <p className="muted">
        Lucid POSTs generation events of the workspace {viewer.workspace.name} to these endpoints as JSON <code>{"{ type, timestamp, data }"}</code>, signed with
        the <a href="https://www.standardwebhooks.com/">Standard Webhooks</a> scheme (<code>webhook-id</code>, <code>webhook-timestamp</code>,{" "}
        <code>webhook-signature</code>). Failed deliveries are retried with backoff for 24 hours; an endpoint that fails 20 times in a row is disabled.
      </p>
      {disabledByFailures.map((e) => (
        <p key={e.id} className="notice" role="alert" data-testid="webhook-disabled-banner">
          <strong>Endpoint disabled:</strong> <code>{e.url}</code>. {e.disabledReason} Fix the endpoint, then enable it again below.
        </p>
      ))}
      <CreateEndpointForm eventTypes={WEBHOOK_EVENT_TYPES} />
      <p className="muted">
        A generation's own <code>webhook_url</code> (on <code>POST /api/v1/generations</code>) receives every event of that generation, signed with the
        workspace's signing secret {isOwner ? <RevealSecret /> : "(shown to owners)"}.
      </p>
      {endpoints.length === 0 && <p className="muted">No endpoints yet.</p>}
      {endpoints.map((e) => (
        <section key={e.id} className="card" style={{ marginBottom: 16 }} data-testid="webhook-endpoint">
          <div className="row" style={{ alignItems: "center", justifyContent: "space-between" }}>
            <div>
              <code>{e.url}</code>{" "}
              <span className={e.enabled ? "muted" : "error"} data-testid="webhook-endpoint-state">{e.enabled ? "enabled" : "disabled"}</span>
              <div className="muted">
                {e.events.join(", ")} · {e.consecutiveFailures} failures in a row · added {when(e.createdAt)}
              </div>
            </div>
            <div className="row" style={{ flex: 0, gap: 8 }}>
              {isOwner && <RevealSecret endpointId={e.id} />}
              <form action={setEndpointEnabledAction}>
                <input type="hidden" name="endpointId" value={e.id} />
                <input type="hidden" name="enabled" value={e.enabled ? "0" : "1"} />
                <button type="submit" className="secondary">{e.enabled ? "Disable" : "Enable"}</button>
              </form>
              <form action={deleteEndpointAction}>
                <input type="hidden" name="endpointId" value={e.id} />
                <button type="submit" className="secondary">Delete</button>
              </form>
            </div>
          </div>
          <h3>Recent attempts</h3>
          {attempts.get(e.id)!.length === 0 ? (
            <p className="muted">No deliveries yet.</p>
          ) : (
            <table>
              <thead><tr><th>When</th><th>Event</th><th>Try</th><th>Result</th><th>Duration</th></tr></thead>
              <tbody>
                {attempts.get(e.id)!.map((a) => (
                  <tr key={a.id} data-testid="webhook-attempt">
                    <td>{when(a.createdAt)}</td>
                    <td><code>{a.delivery.event.type}</code></td>
                    <td>{a.attempt}</td>
                    <td className={a.error ? "error" : undefined}>{a.error ?? `HTTP ${a.statusCode}`}</td>
                    <td>{a.durationMs} ms</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      ))}
    </div>
  );
}
