import type { Transporter } from 'nodemailer';
import { PermanentError, type Processor } from '../processor.ts';
import type { RenderTemplate } from '../templates.ts';

export interface EmailDeps {
  transport: Transporter;
  defaultFrom: string;
  render: RenderTemplate;
}

const list = (value: string | string[] | undefined) =>
  value === undefined ? undefined : Array.isArray(value) ? value : [value];

/** SMTP answers 5xx when retrying cannot help (no such mailbox, policy); 4xx means later. */
const isPermanent = (error: { responseCode?: number; code?: string }) =>
  (error.responseCode !== undefined && error.responseCode >= 500) || error.code === 'EENVELOPE';

/** Send one email through the pooled transport; literal text/html or a rendered template. */
export const makeEmailProcessor =
  ({ transport, defaultFrom, render }: EmailDeps): Processor<'email'> =>
  async (mail, ctx) => {
    const content = mail.template
      ? render(mail.template.name, mail.template.data)
      : { text: mail.text, html: mail.html };
    try {
      const info = await transport.sendMail({
        from: mail.from ?? defaultFrom,
        to: list(mail.to),
        cc: list(mail.cc),
        bcc: list(mail.bcc),
        replyTo: mail.replyTo,
        subject: mail.subject,
        ...content,
        headers: { 'X-Errand-Job-Id': ctx.id },
        disableFileAccess: true,
        disableUrlAccess: true,
      });
      return {
        messageId: info.messageId,
        accepted: (info.accepted ?? []).map(String),
        rejected: (info.rejected ?? []).map(String),
        response: info.response ?? '',
      };
    } catch (error) {
      const smtp = error as { responseCode?: number; code?: string; message: string };
      if (isPermanent(smtp)) throw new PermanentError(`SMTP refused the message: ${smtp.message}`);
      throw error;
    }
  };
