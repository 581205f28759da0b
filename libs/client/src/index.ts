export * from './client.ts';
export type { JobFilter, JobListOptions } from './dead-letter.ts';
export * from './errors.ts';
export type { JobEvent } from './sse.ts';
export type { UploadBody } from './storage.ts';
export type { ReplayRange } from './webhooks.ts';
