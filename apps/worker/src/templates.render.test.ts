import { describe, expect, it } from 'vitest';
import { PermanentError } from './processor.ts';
import { loadTemplates } from './templates.ts';

const render = loadTemplates();

describe('email templates', () => {
  it('welcome: HTML and text parts with the data', () => {
    const { html, text } = render('welcome', {
      name: 'Ada',
      product: 'Errand',
      loginUrl: 'https://x.test/in',
    });
    expect(html).toContain('<h1>Welcome, Ada!</h1>');
    expect(html).toContain('href="https://x.test/in"');
    expect(text).toContain('Welcome, Ada!');
    expect(text).toContain('Sign in at https://x.test/in');
  });

  it('password-reset: link and expiry in both parts', () => {
    const data = { name: 'Ada', resetUrl: 'https://x.test/reset?t=abc', expiresInMinutes: 30 };
    const { html, text } = render('password-reset', data);
    expect(html).toContain('href="https://x.test/reset?t&#x3D;abc"');
    expect(html).toContain('within 30 minutes');
    expect(text).toContain('https://x.test/reset?t=abc');
    expect(text).toContain('within 30 minutes');
  });

  it('digest: one row per event, and a line for an empty period', () => {
    const rows = [
      { event: 'signup', count: 12, users: 9 },
      { event: 'login', count: 40, users: 21 },
    ];
    const { html, text } = render('digest', { period: '2026-11-21', rows });
    expect(html).toContain('<td>signup</td><td align="right">12</td><td align="right">9</td>');
    expect(text).toContain('- login: 40 events, 21 users');
    const empty = render('digest', { period: '2026-11-21', rows: [] });
    expect(empty.html).toContain('No events in this period.');
    expect(empty.text).toContain('No events in this period.');
  });

  it('escapes HTML in the data of the HTML part', () => {
    const { html } = render('welcome', { name: '<script>x</script>', product: 'E', loginUrl: 'u' });
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
  });

  it('fails permanently, naming the template, on a missing variable or an unknown template', () => {
    expect(() => render('welcome', { name: 'Ada' })).toThrow(PermanentError);
    expect(() => render('welcome', { name: 'Ada' })).toThrow(/template "welcome" cannot render/);
    expect(() => render('invoice', {})).toThrow(/unknown email template "invoice"/);
  });
});
