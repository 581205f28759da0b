/** What a scenario reports: one line of figures, and whether the promise held. */
export interface ScenarioResult {
  pass: boolean;
  /** The one line of figures printed for the scenario. */
  figures: string;
  /** Why it failed, when it did. */
  failures: string[];
}

export interface ChaosContext {
  /** `--quick`: every scenario at a small scale (CI); the figures show it runs, no more. */
  quick: boolean;
  /** A progress line on stderr (the result lines go to stdout). */
  log(line: string): void;
}

/** One fault-injection run: real processes, one kind of fault, bounded in time. */
export interface Scenario {
  id: string;
  title: string;
  run(ctx: ChaosContext): Promise<ScenarioResult>;
}

/** Collects failed checks: `check(ok, what)` keeps `what` when `ok` is false. */
export function checks() {
  const failures: string[] = [];
  return {
    failures,
    check(ok: boolean, what: string) {
      if (!ok) failures.push(what);
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The p-th percentile (0–100) of `values`, 0 for none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export const ms = (value: number) => `${Math.round(value)} ms`;
