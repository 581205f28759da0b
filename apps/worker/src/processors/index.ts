import type { Processors } from '../processor.ts';
import { type AnalyticsDeps, makeAnalyticsProcessor } from './analytics.ts';
import { type EmailDeps, makeEmailProcessor } from './email.ts';
import { type ImageDeps, makeImageProcessor } from './image.ts';

/** The processor of every job type; the `Processors` type makes a missing one a compile error. */
export function makeProcessors(deps: {
  email: EmailDeps;
  image: ImageDeps;
  analytics: AnalyticsDeps;
}): Processors {
  return {
    email: makeEmailProcessor(deps.email),
    image: makeImageProcessor(deps.image),
    analytics: makeAnalyticsProcessor(deps.analytics),
  };
}
