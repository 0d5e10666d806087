import nodemailer, { type Transporter } from "nodemailer";
import type { Config } from "@lucid/config";
import type { Platform } from "./platform.ts";

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

// One transport (and SMTP connection pool) per configuration, shared by all requests.
const transports = new WeakMap<Config, Transporter>();

function transportFor(config: Config): Transporter {
  let t = transports.get(config);
  if (t) return t;
  const smtp = config.mail?.smtp ?? null;
  if (typeof smtp === "string") t = nodemailer.createTransport(smtp);
  else if (smtp)
    t = nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.port === 465,
      auth: smtp.user ? { user: smtp.user, pass: smtp.pass ?? "" } : undefined,
    });
  // No SMTP configured: nodemailer's JSON transport builds the message without sending it; we log it.
  else t = nodemailer.createTransport({ jsonTransport: true });
  transports.set(config, t);
  return t;
}

/** Sends one email through the configured SMTP server (or writes it to the log when none is configured). */
export async function sendMail(p: Platform, mail: OutgoingMail): Promise<void> {
  const from = p.config.mail?.from ?? "Lucid <no-reply@localhost>";
  await transportFor(p.config).sendMail({ from, ...mail });
  if (!p.config.mail?.smtp) console.warn(`[mail] SMTP is not configured; not sent to ${mail.to}: ${mail.subject}\n${mail.text}`);
}
