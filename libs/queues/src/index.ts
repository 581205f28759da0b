export * from './queues.ts';
export * from './reconcile.ts';
export * from './schedule-file.ts';
export * from './schedule-lock.ts';
export * from './schedule-metrics.ts';
export * from './schedule-store.ts';
export * from './schedule-times.ts';
export * from './schedules.ts';
