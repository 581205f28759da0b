export * from './keys.ts';
export * from './limiter.ts';
