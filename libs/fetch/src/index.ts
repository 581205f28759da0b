export * from './safe-get.ts';
export * from './safe-request.ts';
export * from './target-allow-list.ts';
