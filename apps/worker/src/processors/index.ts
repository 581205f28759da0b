import type { Processors } from '../processor.ts';
import { type AnalyticsDeps, makeAnalyticsProcessor } from './analytics.ts';
import { type EmailDeps, makeEmailProcessor } from './email.ts';
import { makeImageProcessor } from './image.ts';

/** The processor of every job type; the `Processors` type makes a missing one a compile error. */
export function makeProcessors(deps: { email: EmailDeps; analytics: AnalyticsDeps }): Processors {
  return {
    email: makeEmailProcessor(deps.email),
    image: makeImageProcessor(),
    analytics: makeAnalyticsProcessor(deps.analytics),
  };
}
