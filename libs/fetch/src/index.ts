export * from './safe-get.ts';
