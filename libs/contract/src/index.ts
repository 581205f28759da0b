export * from './analytics.ts';
export * from './analytics-report.ts';
export * from './api.ts';
export * from './catalog.ts';
export * from './email.ts';
export * from './headers.ts';
export * from './image.ts';
export * from './queues.ts';
