export * from './connect.ts';
export * from './connection.ts';
export * from './durability.ts';
export * from './location.ts';
export * from './timeout.ts';
