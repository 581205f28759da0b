export * from './storage.ts';
export * from './storages/local.ts';
