export * from './caller-policies.ts';
export * from './delivery-log.ts';
export * from './event-log.ts';
export * from './job-events.ts';
export * from './secrets.ts';
export * from './signing-secrets.ts';
export * from './subscriptions.ts';
