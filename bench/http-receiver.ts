import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The service the http cases call: plain node:http on loopback that reads each request's body,
 * answers 200 and counts it; keep-alive connections stay open for the whole run. It runs in
 * the bench process for both sides of a case, so its CPU weighs on each the same.
 */
export async function startCountingReceiver() {
  let count = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      count++;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get count() {
      return count;
    },
    /** Poll until `n` requests were answered; the time it happened. */
    async waitFor(n: number, timeoutMs = 300_000): Promise<number> {
      const deadline = performance.now() + timeoutMs;
      while (count < n) {
        if (performance.now() > deadline) throw new Error(`${count} of ${n} requests came`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return performance.now();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
export type CountingReceiver = Awaited<ReturnType<typeof startCountingReceiver>>;
