export * from './connect.ts';
export * from './connection.ts';
export * from './durability.ts';
export * from './timeout.ts';
