import { batchEnvelope, enqueueEnvelope, type JobType, jobs, jobTypes } from '@errand/contract';
import { z } from 'zod';

type Payloads = { [T in JobType]: (typeof jobs)[T]['schema'] };

/**
 * The schemas every enqueue body is checked against, compiled once at start (`z.compile`):
 * zod generates a validator of each schema that takes a valid body without walking the schema
 * node by node, about six times faster for an analytics job (docs/performance.md). A body the
 * generated code does not accept is parsed again by zod's own parser, so a refusal (its issues,
 * paths and messages, and so the problem document) is the same as without it; the contract
 * stays the one source of truth. `enqueue-checks.test.ts` holds the two to the same answers.
 */
export const enqueueChecks = {
  /** The envelope with the payload left open: the payload is checked against its type next. */
  envelope: z.compile(enqueueEnvelope(z.unknown())),
  /** A batch with its items left open: each is checked as one enqueue, at `jobs.<index>`. */
  batch: z.compile(batchEnvelope(z.unknown())),
  /** Each job type's payload. */
  payloads: Object.fromEntries(
    jobTypes.map((type) => [type, z.compile(jobs[type].schema)]),
  ) as Payloads,
};
