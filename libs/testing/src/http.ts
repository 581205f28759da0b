import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Base URL of a listening node:http server (tests listen on port 0). */
export function baseUrl(server: Server): string {
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

/** fetch + JSON body, for tests that look at status, headers and body together. */
export async function request(
  url: string,
  init: RequestInit & { json?: unknown } = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests read any JSON shape from the body
): Promise<{ status: number; headers: Headers; body: any }> {
  const { json, ...rest } = init;
  const response = await fetch(url, {
    ...rest,
    headers:
      json === undefined ? rest.headers : { 'content-type': 'application/json', ...rest.headers },
    body: json === undefined ? rest.body : JSON.stringify(json),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body };
}
