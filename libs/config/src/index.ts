export * from './common-env.ts';
export * from './parse.ts';
