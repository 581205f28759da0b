import { z } from 'zod';
import { address, addressList, headerSafe } from './headers.ts';

export const emailTemplateNames = ['welcome', 'password-reset', 'digest'] as const;

const template = z.strictObject({
  name: z.enum(emailTemplateNames),
  data: z.record(z.string().max(100), z.unknown()).default({}),
});

/** The payload of an email job: literal text/html, or a named template. */
export const emailPayload = z
  .strictObject({
    to: addressList,
    cc: addressList.optional(),
    bcc: addressList.optional(),
    from: address.optional(),
    replyTo: address.optional(),
    subject: headerSafe(998).min(1),
    text: z.string().max(1_000_000).optional(),
    html: z.string().max(1_000_000).optional(),
    template: template.optional(),
  })
  .refine(
    (mail) =>
      (mail.template === undefined) !== (mail.text === undefined && mail.html === undefined),
    {
      message: 'give either text/html or a template, not both and not neither',
      path: ['template'],
    },
  );

export type EmailPayload = z.infer<typeof emailPayload>;

export interface EmailResult {
  messageId: string;
  accepted: string[];
  rejected: string[];
  response: string;
}
