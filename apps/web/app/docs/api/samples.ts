// Code samples for the API reference: curl, TypeScript (@lucid/sdk) and Python
// (requests), for submitting, getting and waiting for a generation. Shown on
// /docs/api and added to the operations as `x-codeSamples` for the renderer.

export interface CodeSample {
  lang: "Shell" | "TypeScript" | "Python";
  label: string;
  source: string;
}

const REQUEST = `{"prompt":"a lighthouse at dawn","width":512,"height":512,"steps":20,"seed":42}`;

export function quickstartSamples(baseUrl: string): CodeSample[] {
  return [
    {
      lang: "Shell",
      label: "curl",
      source: `export LUCID_API_KEY=lucid_sk_...   # API keys page
# Submit (202, queued); Prefer: wait=30 holds the answer until it finishes (200) or 30 s pass (202).
curl -s -X POST ${baseUrl}/api/v1/generations \\
  -H "Authorization: Bearer $LUCID_API_KEY" -H 'content-type: application/json' \\
  -H 'Prefer: wait=30' \\
  -d '${REQUEST}'

# Get it (poll until status is succeeded, failed or canceled)
curl -s ${baseUrl}/api/v1/generations/$ID -H "Authorization: Bearer $LUCID_API_KEY"

# Or follow it live: server-sent events until the terminal state
curl -sN ${baseUrl}/api/v1/generations/$ID/events -H "Authorization: Bearer $LUCID_API_KEY"`,
    },
    {
      lang: "TypeScript",
      label: "TypeScript (@lucid/sdk)",
      source: `import { Lucid, LucidError } from "@lucid/sdk";

const lucid = new Lucid({ apiKey: process.env.LUCID_API_KEY!, baseUrl: "${baseUrl}" });

try {
  const queued = await lucid.generate({ prompt: "a lighthouse at dawn", width: 512, height: 512, steps: 20, seed: 42 });
  // Either poll until it ends (backs off from 250 ms to 2 s)…
  const done = await lucid.wait(queued.id, { timeoutMs: 120_000 });
  console.log(done.status, done.images.map((image) => image.url));
  // …or follow every step as it happens.
  for await (const generation of lucid.stream(queued.id)) {
    console.log(generation.status, \`\${generation.progress.step}/\${generation.progress.total}\`);
  }
} catch (err) {
  if (err instanceof LucidError) console.error(err.status, err.code, err.errors); // problem JSON
  else throw err;
}`,
    },
    {
      lang: "Python",
      label: "Python (requests)",
      source: `import os, time, requests

BASE = "${baseUrl}"
api = requests.Session()
api.headers["Authorization"] = f"Bearer {os.environ['LUCID_API_KEY']}"

r = api.post(f"{BASE}/api/v1/generations", json={
    "prompt": "a lighthouse at dawn", "width": 512, "height": 512, "steps": 20, "seed": 42,
})
if not r.ok:  # problem JSON: a stable code, and the offending fields for bad input
    problem = r.json()
    raise SystemExit(f"{problem['code']}: {problem['detail']} {problem.get('errors', '')}")
generation = r.json()

delay = 0.25
while generation["status"] in ("queued", "running"):
    time.sleep(delay)
    delay = min(delay * 1.5, 2.0)
    generation = api.get(f"{BASE}/api/v1/generations/{generation['id']}").json()

print(generation["status"], [image["url"] for image in generation["images"]])`,
    },
  ];
}

/** Per-operation samples for the reference's right-hand panel. */
export function operationSamples(baseUrl: string): Record<string, CodeSample[]> {
  const auth = `-H "Authorization: Bearer $LUCID_API_KEY"`;
  const ts = (body: string) => ({ lang: "TypeScript" as const, label: "TypeScript (@lucid/sdk)", source: `const lucid = new Lucid({ apiKey, baseUrl: "${baseUrl}" });\n${body}` });
  const py = (body: string) => ({ lang: "Python" as const, label: "Python (requests)", source: `import requests\nh = {"Authorization": f"Bearer {api_key}"}\n${body}` });
  const curl = (body: string) => ({ lang: "Shell" as const, label: "curl", source: body });
  return {
    createGeneration: [
      curl(`curl -s -X POST ${baseUrl}/api/v1/generations ${auth} \\\n  -H 'content-type: application/json' \\\n  -d '${REQUEST}'`),
      ts(`const generation = await lucid.generate({ prompt: "a lighthouse at dawn", width: 512, height: 512, steps: 20, seed: 42 });`),
      py(`generation = requests.post("${baseUrl}/api/v1/generations", headers=h, json={"prompt": "a lighthouse at dawn", "seed": 42}).json()`),
    ],
    getGeneration: [
      curl(`curl -s ${baseUrl}/api/v1/generations/$ID ${auth}`),
      ts(`const generation = await lucid.get(id);\n// or, until it is succeeded, failed or canceled:\nconst done = await lucid.wait(id, { timeoutMs: 120_000 });`),
      py(`generation = requests.get(f"${baseUrl}/api/v1/generations/{id}", headers=h).json()`),
    ],
    listGenerations: [
      curl(`curl -s '${baseUrl}/api/v1/generations?limit=20&status=succeeded' ${auth}`),
      ts(`const page = await lucid.list({ limit: 20, status: "succeeded" });\nconst next = page.next_cursor ? await lucid.list({ cursor: page.next_cursor }) : null;`),
      py(`page = requests.get("${baseUrl}/api/v1/generations", headers=h, params={"limit": 20}).json()`),
    ],
    streamGenerationEvents: [
      curl(`curl -sN ${baseUrl}/api/v1/generations/$ID/events ${auth}`),
      ts(`for await (const generation of lucid.stream(id)) console.log(generation.status, generation.progress.step);`),
    ],
    generationEvent: [
      {
        lang: "TypeScript",
        label: "TypeScript (@lucid/sdk)",
        source: `import { verifyWebhook } from "@lucid/sdk";

// A Next.js route handler receiving Lucid's webhooks.
export async function POST(req: Request) {
  // Throws on a forged, altered or stale delivery. Verify the raw body, not re-serialised JSON.
  const event = verifyWebhook(await req.text(), req.headers, process.env.LUCID_WEBHOOK_SECRET!);
  if (event.type === "generation.succeeded") console.log(event.data.id, event.data.images.map((image) => image.url));
  return new Response(null, { status: 204 }); // any 2xx acknowledges; deduplicate on webhook-id
}`,
      },
      {
        lang: "Python",
        label: "Python (standardwebhooks)",
        source: `from standardwebhooks.webhooks import Webhook

# raw_body: the request body bytes; headers: the request headers as a dict
event = Webhook(os.environ["LUCID_WEBHOOK_SECRET"]).verify(raw_body, headers)  # raises if forged
if event["type"] == "generation.succeeded":
    print(event["data"]["id"], [image["url"] for image in event["data"]["images"]])`,
      },
    ],
    cancelGeneration: [
      curl(`curl -s -X POST ${baseUrl}/api/v1/generations/$ID/cancel ${auth}`),
      ts(`const { outcome, generation } = await lucid.cancel(id);`),
      py(`result = requests.post(f"${baseUrl}/api/v1/generations/{id}/cancel", headers=h).json()`),
    ],
  };
}
