import { readFile, stat } from 'node:fs/promises';
import { type ScheduleEntry, scheduleFile } from '@errand/contract';
import { parseDocument } from 'yaml';

/** A schedules file that cannot be used, naming the file, the schedule and the reason. */
export class ScheduleFileError extends Error {
  override name = 'ScheduleFileError';
}

const MAX_BYTES = 1024 * 1024;

/**
 * Read and check the schedules file (YAML): `schedules:` a list of `{ id, cron | every, …,
 * job: { type, data } }`, checked with the API's schema. A missing file gives undefined
 * (nothing to reconcile) unless it is `required`; anything else wrong throws, so a bad file stops start-up instead of running
 * half a configuration.
 */
export async function loadScheduleFile(
  path: string,
  { required }: { required: boolean },
): Promise<ScheduleEntry[] | undefined> {
  let text: string;
  try {
    // Size first: a path such as /dev/zero must not be read into memory.
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a regular file');
    if (info.size > MAX_BYTES) throw new Error(`larger than ${MAX_BYTES} bytes`);
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !required) return undefined;
    throw new ScheduleFileError(`${path}: cannot be read: ${(error as Error).message}`);
  }
  return parseScheduleFile(text, path);
}

export function parseScheduleFile(text: string, path: string): ScheduleEntry[] {
  if (Buffer.byteLength(text) > MAX_BYTES) {
    throw new ScheduleFileError(`${path}: larger than ${MAX_BYTES} bytes`);
  }
  let document: unknown;
  try {
    // No custom tags, no merge keys, and a cap on alias expansion ("billion laughs"); what
    // YAML only warns of (an unknown tag such as !!js/function) is refused too.
    const parsed = parseDocument(text, {
      merge: false,
      uniqueKeys: true,
      logLevel: 'silent',
    });
    const [problem] = [...parsed.errors, ...parsed.warnings];
    if (problem) throw problem;
    document = parsed.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (error) {
    throw new ScheduleFileError(`${path}: not valid YAML: ${(error as Error).message}`);
  }
  const parsed = scheduleFile.safeParse(document);
  if (!parsed.success) {
    const entries = (document as { schedules?: unknown })?.schedules;
    const lines = parsed.error.issues.map((issue) => {
      const [top, index, ...rest] = issue.path;
      const id =
        top === 'schedules' && typeof index === 'number' && Array.isArray(entries)
          ? (entries[index] as { id?: unknown } | undefined)?.id
          : undefined;
      const where =
        id === undefined ? issue.path.join('.') || '(file)' : `schedule "${String(id)}"`;
      const field = id === undefined ? '' : ` ${rest.join('.')}`;
      return `  - ${where}${field}: ${issue.message}`;
    });
    throw new ScheduleFileError(`${path}: invalid schedules\n${lines.join('\n')}`);
  }
  const seen = new Set<string>();
  for (const entry of parsed.data.schedules) {
    if (seen.has(entry.id)) {
      throw new ScheduleFileError(`${path}: schedule "${entry.id}" is declared twice`);
    }
    seen.add(entry.id);
  }
  return parsed.data.schedules;
}
