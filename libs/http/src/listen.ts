import { createServer, type RequestListener, type Server } from 'node:http';

/** Serve `handler` (an Express app, or any request listener); resolve once bound (port 0: a free one). */
export function listen(handler: RequestListener, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(handler);
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** Stop accepting, end idle keep-alive connections, wait for requests in flight. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
