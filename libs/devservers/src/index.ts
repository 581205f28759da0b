export * from './poll.ts';
export * from './ports.ts';
export * from './redis-cluster.ts';
export * from './redis-server.ts';
export * from './sentinel-group.ts';
export * from './smtp-sink.ts';
