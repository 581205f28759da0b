import { request } from '@errand/testing';
import type { Queue } from 'bullmq';
import sharp from 'sharp';
import { sleep } from './scenario.ts';

/*
 * The image side of R11: its sources, its jobs' outputs, and how the run reads them back from
 * the object store.
 */

/** Each job's renditions: three objects written per job. */
export const OUTPUTS = [
  { width: 320, format: 'webp' },
  { width: 160, height: 160, fit: 'cover', format: 'png' },
  { width: 480, format: 'jpeg', quality: 70 },
] as const;
/** Their keys' extensions, output by output (`images/<job id>/<n>.<ext>`). */
const EXTENSIONS = ['webp', 'png', 'jpg'];

/** One acknowledged job as the API shows it once it ended. */
export interface Ended {
  id: string;
  state: string;
  attemptsMade: number;
  failedReason: string | null;
  finishedAt: string | null;
  result: { outputs: { key: string; bytes: number; contentType: string; url: string }[] } | null;
}

/**
 * Two source images, in through the API both ways a caller has: `PUT /v1/uploads/{name}`
 * (the producer streams it to the store) and a presigned ticket (the bytes go straight to it).
 */
export async function uploadSources(api: string): Promise<[string, string]> {
  const photo = (background: string) =>
    sharp({
      create: {
        width: 800,
        height: 600,
        channels: 3,
        background,
        noise: { type: 'gaussian', mean: 128, sigma: 20 },
      },
    })
      .jpeg({ quality: 80 })
      .toBuffer();
  const [first, second] = await Promise.all([photo('#3a7'), photo('#a73')]);
  const put = await request(`${api}/v1/uploads/r11-put.jpg`, {
    method: 'PUT',
    headers: { 'content-type': 'image/jpeg' },
    body: first,
  });
  if (put.status !== 201) throw new Error(`PUT /v1/uploads: ${JSON.stringify(put)}`);
  const ticket = await request(`${api}/v1/uploads`, {
    method: 'POST',
    json: { contentType: 'image/jpeg', bytes: second.length, name: 'r11-ticket.jpg' },
  });
  if (ticket.status !== 201) throw new Error(`POST /v1/uploads: ${JSON.stringify(ticket)}`);
  const sent = await fetch(ticket.body.url, {
    method: 'PUT',
    headers: ticket.body.headers,
    body: second,
  });
  if (!sent.ok) throw new Error(`PUT to the presigned URL: ${sent.status} ${await sent.text()}`);
  return [put.body.key, ticket.body.key];
}

/**
 * A completed job's outputs read back from the store through the presigned URLs of its result:
 * one per requested output, at `images/<id>/<n>.<ext>`, of the bytes and type the result says.
 */
export async function verifyOutputs(job: Ended): Promise<{ found: number; wrong: string[] }> {
  const wrong: string[] = [];
  const outputs = job.result?.outputs ?? [];
  if (outputs.length !== OUTPUTS.length) wrong.push(`${job.id}: ${outputs.length} outputs`);
  let found = 0;
  for (const [n, output] of outputs.entries()) {
    const key = `images/${job.id}/${n}.${EXTENSIONS[n]}`;
    const file = await fetch(output.url);
    const bytes = (await file.arrayBuffer()).byteLength;
    const type = file.headers.get('content-type');
    if (
      output.key === key &&
      file.status === 200 &&
      bytes === output.bytes &&
      type === output.contentType
    )
      found++;
    else wrong.push(`${output.key}: ${file.status}, ${bytes} bytes of ${output.bytes}, ${type}`);
  }
  return { found, wrong };
}

/**
 * Wait up to `withinMs` for a job that has written some of its outputs but not all (its
 * progress between 0 and 100), so the kill that follows lands mid-job; how many there are.
 */
export async function partwayJobs(queue: Queue, withinMs: number): Promise<number> {
  const until = performance.now() + withinMs;
  do {
    const active = await queue.getActive();
    const partway = active.filter((job) => Number(job.progress) > 0 && Number(job.progress) < 100);
    if (partway.length > 0) return partway.length;
    await sleep(5);
  } while (performance.now() < until);
  return 0;
}

/** What a failed attempt was doing and why (`writing ECONNREFUSED ×3, …`), from store reasons. */
export function storeReasons(reasons: string[]): string {
  const counts = new Map<string, number>();
  for (const reason of reasons) {
    const match = /^(\w+) "[^"]*" failed: ([\w.]+)/.exec(reason);
    const kind = match ? `${match[1]} ${match[2]}` : 'other';
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return [...counts].map(([kind, n]) => `${kind} ×${n}`).join(', ') || 'none';
}

/** `work` on every item, `size` at a time, the results in the items' order. */
export async function inPool<T, R>(items: T[], size: number, work: (item: T) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i] as T);
      }
    }),
  );
  return results;
}
