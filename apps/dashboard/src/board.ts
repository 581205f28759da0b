import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queues } from '@errand/queues';
import type { Router } from 'express';

/** Bull Board over every queue of the contract, served at `basePath`. */
export function boardRouter(
  queues: Queues,
  options: { basePath: string; readOnly: boolean },
): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(options.basePath);
  createBullBoard({
    queues: Object.values(queues).map(
      (queue) => new BullMQAdapter(queue, { readOnlyMode: options.readOnly }),
    ),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Errand' } },
  });
  return serverAdapter.getRouter();
}
