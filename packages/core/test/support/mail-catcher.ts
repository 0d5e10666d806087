// MailDev on loopback for tests: the platform sends real SMTP to it and the
// tests read the messages back through its REST API.
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MailDev } from "maildev";

export interface CaughtEmail {
  id: string;
  subject: string;
  text: string;
  html: string;
  to: Array<{ address: string }>;
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

export async function startMailCatcher() {
  const [smtp, web] = [await freePort(), await freePort()];
  const maildev = new MailDev({ smtp, web, ip: "127.0.0.1", webIp: "127.0.0.1", silent: true, mcp: false, mailDirectory: mkdtempSync(join(tmpdir(), "lucid-mail-")) });
  await maildev.start();
  const api = `http://127.0.0.1:${web}/api`;
  const list = async (to?: string): Promise<CaughtEmail[]> => {
    const all = (await (await fetch(`${api}/email`)).json()) as CaughtEmail[];
    return to ? all.filter((m) => m.to.some((a) => a.address.toLowerCase() === to.toLowerCase())) : all;
  };
  return {
    smtpUrl: `smtp://127.0.0.1:${smtp}`,
    list,
    /** The link in the newest email to `to` whose URL contains `path`. */
    async linkTo(to: string, path: string): Promise<URL> {
      // SMTP delivery is done when sendMail resolves; storing it may lag a moment behind.
      for (let i = 0; ; i++) {
        const mails = await list(to);
        const m = mails.at(-1)?.text.match(/https?:\/\/\S+/g)?.find((u) => u.includes(path));
        if (m) return new URL(m);
        if (i === 50) throw new Error(`no email to ${to} with a ${path} link (${mails.length} emails)`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop: () => maildev.stop(),
  };
}
