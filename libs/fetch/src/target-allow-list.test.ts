import { describe, expect, it } from 'vitest';
import { allowedTargetsSchema, parseAllowedTarget, targetAllowed } from './target-allow-list.ts';

describe('parseAllowedTarget', () => {
  it.each([
    ['https://api.example.com', { origin: 'https://api.example.com', path: undefined }],
    ['https://API.Example.com:443/', { origin: 'https://api.example.com', path: undefined }],
    ['http://api.example.com:8080', { origin: 'http://api.example.com:8080', path: undefined }],
    ['https://api.example.com/hooks/', { origin: 'https://api.example.com', path: '/hooks/' }],
    ['https://api.example.com/hooks', { origin: 'https://api.example.com', path: '/hooks' }],
    ['http://[::1]:80', { origin: 'http://[::1]', path: undefined }],
  ])('reads %s', (text, target) => {
    expect(parseAllowedTarget(text)).toEqual(target);
  });

  it.each([
    ['api.example.com', /not a URL/],
    ['', /not a URL/],
    ['ftp://api.example.com', /only http and https/],
    ['file:///etc/passwd', /only http and https/],
    ['https://user:pw@api.example.com', /no user or password/],
    ['https://user@api.example.com', /no user or password/],
    ['https://api.example.com/hooks?x=1', /no query or fragment/],
    ['https://api.example.com/?', /no query or fragment/],
    ['https://api.example.com/#top', /no query or fragment/],
    ['https://api.example.com/a%2Fb', /encoded slash/],
  ])('refuses %s', (text, message) => {
    expect(() => parseAllowedTarget(text)).toThrow(message);
  });
});

describe('targetAllowed', () => {
  const targets = [
    'https://api.example.com',
    'https://hooks.example.com/hooks/',
    'http://plain.example.com:8080/v1',
  ].map(parseAllowedTarget);

  it.each([
    ['https://api.example.com/anything?q=1', true],
    ['https://api.example.com', true],
    ['https://API.EXAMPLE.COM/x', true],
    ['https://api.example.com:443/x', true],
    ['https://api.example.com.', false],
    ['https://api.example.com:8443/x', false],
    ['http://api.example.com/x', false],
    ['https://api.example.com.evil.com/', false],
    ['https://evil.api.example.com/', false],
    ['https://example.com/', false],
    ['https://api.example.com@evil.com/', false],
    ['https://evil.com/https://api.example.com', false],
    ['https://user:pw@api.example.com/', false],
    ['https://hooks.example.com/hooks/a', true],
    ['https://hooks.example.com/hooks/', true],
    ['https://hooks.example.com/hooks/a/b', true],
    ['https://hooks.example.com/hooks', false],
    ['https://hooks.example.com/hooksevil', false],
    ['https://hooks.example.com/', false],
    ['https://hooks.example.com/hooks/../admin', false],
    ['https://hooks.example.com/hooks/%2e%2e/admin', false],
    ['https://hooks.example.com/hooks/./a', true],
    ['https://hooks.example.com/hooks/..%2Fadmin', false],
    ['https://hooks.example.com/hooks%2F..%2Fadmin', false],
    ['https://hooks.example.com/hooks/a%5c..%5cadmin', false],
    ['https://hooks.example.com/hooks/..;/admin', false],
    ['https://hooks.example.com/hooks;x=1/a', false],
    ['https://hooks.example.com/hooks/a;jsessionid=1', false],
    ['https://hooks.example.com/hooks\\..\\admin', false],
    ['https://hooks.example.com/HOOKS/a', false],
    ['http://plain.example.com:8080/v1', true],
    ['http://plain.example.com:8080/v1/x', true],
    ['http://plain.example.com:8080/v10', false],
    ['http://plain.example.com/v1', false],
  ])('%s → %s', (url, expected) => {
    expect(targetAllowed(new URL(url), targets)).toBe(expected);
  });

  it('allows nothing with no targets', () => {
    expect(targetAllowed(new URL('https://api.example.com/'), [])).toBe(false);
  });
});

describe('allowedTargetsSchema', () => {
  it('parses a list of targets', () => {
    expect(
      allowedTargetsSchema.parse(['https://a.example.com', 'https://b.example.com/x/']),
    ).toEqual([
      { origin: 'https://a.example.com', path: undefined },
      { origin: 'https://b.example.com', path: '/x/' },
    ]);
  });

  it('reports a bad entry by its index and message', () => {
    const result = allowedTargetsSchema.safeParse(['https://a.example.com', 'ftp://b.example.com']);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({
      path: [1],
      message: expect.stringMatching(/only http/),
    });
  });

  it('refuses more than 100 entries', () => {
    const many = Array.from({ length: 101 }, (_, i) => `https://h${i}.example.com`);
    expect(allowedTargetsSchema.safeParse(many).success).toBe(false);
    expect(allowedTargetsSchema.safeParse(many.slice(0, 100)).success).toBe(true);
  });
});
