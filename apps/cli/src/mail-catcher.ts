// A development mail catcher (MailDev): an SMTP server on loopback that keeps
// every message, with a web inbox and a REST API (`GET /api/email`) that the
// end-to-end tests read. `npm start` and the e2e runner start one unless SMTP
// is configured.
import { createServer } from "node:net";
import { MailDev } from "maildev";

export interface MailCatcher {
  /** What the web app sends through (SMTP_URL). */
  smtpUrl: string;
  /** The web inbox; its REST API is under /api. */
  inboxUrl: string;
  stop(): Promise<void>;
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function startMailCatcher(opts: { mailDirectory: string; smtpPort?: number; webPort?: number }): Promise<MailCatcher> {
  const smtp = opts.smtpPort || (await freeLoopbackPort());
  const web = opts.webPort || (await freeLoopbackPort());
  const maildev = new MailDev({ smtp, web, ip: "127.0.0.1", webIp: "127.0.0.1", mailDirectory: opts.mailDirectory, silent: true, mcp: false });
  await maildev.start();
  return {
    smtpUrl: `smtp://127.0.0.1:${smtp}`,
    inboxUrl: `http://127.0.0.1:${web}`,
    stop: () => maildev.stop(),
  };
}
