export * from './ingest.ts';
export * from './keys.ts';
export * from './names.ts';
export * from './query.ts';
export * from './range.ts';
export * from './settings.ts';
