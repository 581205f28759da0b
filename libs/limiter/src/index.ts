export * from './keys.ts';
export * from './leased-window.ts';
export * from './limiter.ts';
