import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";
import { Webhook } from "standardwebhooks";
import { generate, signUp, uniqueEmail } from "./helpers.ts";

// The platform runs with LUCID_WEBHOOK_ALLOW_LOOPBACK=true (e2e/run.ts), so it may reach this receiver on 127.0.0.1.
test("a developer adds a webhook endpoint in settings and receives a signed generation.succeeded", async ({ page }) => {
  const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  const receiver = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/lucid-hooks`;
  try {
    await signUp(page, uniqueEmail("hooks"));
    await page.getByRole("link", { name: "Webhooks" }).click();
    await expect(page).toHaveURL(/\/settings\/webhooks$/);

    // Private addresses are refused (loopback is allowed here only by the development setting).
    await page.getByLabel("Endpoint URL").fill("http://10.0.0.7/hooks");
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await expect(page.getByText("url must not point at a private, loopback or link-local address")).toBeVisible();

    await page.getByLabel("Endpoint URL").fill(url);
    await page.getByLabel("generation.progress").uncheck();
    await page.getByRole("button", { name: "Add endpoint" }).click();
    const secret = (await page.getByTestId("new-webhook-secret").textContent())!.trim();
    expect(secret).toMatch(/^whsec_/);
    const endpoint = page.getByTestId("webhook-endpoint").filter({ hasText: url });
    await expect(endpoint).toContainText("generation.started, generation.succeeded, generation.failed, generation.canceled");
    await expect(endpoint.getByTestId("webhook-endpoint-state")).toHaveText("enabled");

    await generate(page, "a lighthouse that phones home");

    // Deliveries are not ordered: wait for both.
    const typesReceived = () => received.map((r) => (JSON.parse(r.body) as { type: string }).type).sort();
    await expect.poll(typesReceived, { timeout: 30_000 }).toEqual(["generation.started", "generation.succeeded"]);
    const events = received.map((r) => new Webhook(secret).verify(r.body, r.headers as Record<string, string>) as { type: string; data: { status: string; images: unknown[]; request: { prompt: string } } });
    const succeeded = events.find((e) => e.type === "generation.succeeded")!;
    expect(succeeded.data.status).toBe("succeeded");
    expect(succeeded.data.request.prompt).toBe("a lighthouse that phones home");
    expect(succeeded.data.images).toHaveLength(1);

    // The attempts are listed in settings (recorded just after the receiver answered: reload until they show), and the owner can see the secret again.
    const attempts = page.getByTestId("webhook-endpoint").filter({ hasText: url }).getByTestId("webhook-attempt");
    await expect(async () => {
      await page.goto("/settings/webhooks");
      await expect(attempts.filter({ hasText: "generation.succeeded" })).toContainText("HTTP 200", { timeout: 1000 });
    }).toPass({ timeout: 30_000 });
    await expect(attempts.filter({ hasText: "generation.started" })).toContainText("HTTP 200");
    await endpoint.getByRole("button", { name: "Show secret" }).click();
    await expect(endpoint.getByTestId("webhook-secret")).toHaveText(secret);
  } finally {
    receiver.close();
  }
});
