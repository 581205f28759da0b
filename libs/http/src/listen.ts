import type { Server } from 'node:http';
import type { Express } from 'express';

/** Listen and resolve once bound; port 0 picks a free one. */
export function listen(app: Express, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) =>
      error ? reject(error) : resolve(server),
    );
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
