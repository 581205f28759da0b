export * from './client.ts';
export * from './errors.ts';
export type { JobEvent } from './sse.ts';
export type { ReplayRange } from './webhooks.ts';
