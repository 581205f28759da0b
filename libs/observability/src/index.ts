export * from './error-lines.ts';
export * from './logger.ts';
export * from './metrics.ts';
