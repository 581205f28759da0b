export * from './content-types.ts';
export * from './links.ts';
export * from './location.ts';
export * from './storage.ts';
export * from './storages/local.ts';
export * from './storages/s3.ts';
