export { type ReceivedMail, SmtpSink } from '@errand/devservers';
export * from './analytics-events.ts';
export * from './apps.ts';
export * from './http.ts';
export * from './redis.ts';
export * from './s3-server.ts';
export * from './topologies.ts';
export * from './wait.ts';
export * from './webhook-receiver.ts';
