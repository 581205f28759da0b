export * from './errors.ts';
export * from './listen.ts';
export * from './ops.ts';
export * from './problem.ts';
