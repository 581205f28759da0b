/** The sender both sides of the email case use (Errand's worker as its MAIL_FROM). */
export const BENCH_FROM = 'Errand <no-reply@errand.localhost>';

const LINES = Array.from(
  { length: 12 },
  (_, n) => `Item ${n + 1}: one of the things you ordered, with a line of text about it.`,
);

/**
 * Mail number `n` of a run tagged `tag`: a transactional message of about 2.5 KB (text and
 * HTML parts) to one recipient, as an Errand email job's payload with literal content.
 */
export const benchMail = (n: number, tag: string) => ({
  to: `user${n}@bench.localhost`,
  subject: `Your order ${tag}-${n} has shipped`,
  text: `Hello user ${n},\n\nyour order has shipped.\n\n${LINES.join('\n')}\n\nThe bench\n`,
  html: `<p>Hello user ${n},</p><p>your order has shipped.</p><ul>${LINES.map((line) => `<li>${line}</li>`).join('')}</ul><p>The bench</p>`,
});
