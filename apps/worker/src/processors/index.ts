import type { Processors } from '../processor.ts';
import { type AnalyticsDeps, makeAnalyticsProcessor } from './analytics.ts';
import {
  type AnalyticsMaintenanceDeps,
  makeAnalyticsMaintenanceProcessor,
} from './analytics-maintenance.ts';
import { type DigestDeps, makeDigestProcessor } from './digest.ts';
import { type EmailDeps, makeEmailProcessor } from './email.ts';
import { type HttpDeps, makeHttpProcessor } from './http.ts';
import { type ImageDeps, makeImageProcessor } from './image.ts';
import { type ImageCleanupDeps, makeImageCleanupProcessor } from './image-cleanup.ts';
import { makeWebhookProcessor, type WebhookDeps } from './webhook.ts';

/** The processor of every job type; the `Processors` type makes a missing one a compile error. */
export function makeProcessors(deps: {
  email: EmailDeps;
  image: ImageDeps;
  analytics: AnalyticsDeps;
  http: HttpDeps;
  webhook: WebhookDeps;
  digest: DigestDeps;
  imageCleanup: ImageCleanupDeps;
  analyticsMaintenance: AnalyticsMaintenanceDeps;
}): Processors {
  return {
    email: makeEmailProcessor(deps.email),
    image: makeImageProcessor(deps.image),
    analytics: makeAnalyticsProcessor(deps.analytics),
    http: makeHttpProcessor(deps.http),
    webhook: makeWebhookProcessor(deps.webhook),
    digest: makeDigestProcessor(deps.digest),
    'image-cleanup': makeImageCleanupProcessor(deps.imageCleanup),
    'analytics-maintenance': makeAnalyticsMaintenanceProcessor(deps.analyticsMaintenance),
  };
}
