// The API's wire types, for a caller's own signatures (`JobView<'image'>`, `PayloadInput<'email'>`).
export type {
  AnalyticsReport,
  CountedState,
  DeliveryAttempt,
  EnqueuedJob,
  EnqueueOptions,
  EventList,
  Granularity,
  ImageContentType,
  ImageOutput,
  JobList,
  JobState,
  JobType,
  JobView,
  PayloadInput,
  ProblemDocument,
  QueueStatus,
  ResultOf,
  ScheduleDetail,
  ScheduleInput,
  ScheduleView,
  UploadedObject,
  UploadRequest,
  UploadTicket,
  WebhookEvent,
} from '@errand/contract';
export * from './client.ts';
export type { JobFilter, JobListOptions } from './dead-letter.ts';
export * from './errors.ts';
export type { JobEvent } from './sse.ts';
export type { UploadBody } from './storage.ts';
export type { ReplayRange } from './webhooks.ts';
