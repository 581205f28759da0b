import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROMETHEUS_DIR, run } from '../test/prometheus.testkit.ts';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleTest {
  alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[];
}

const yamlOf = async <T>(file: string) =>
  parse(await readFile(join(PROMETHEUS_DIR, file), 'utf8')) as T;

/** promtool on the shipped files, where they are (rule_files resolve beside the config). */
describe('the shipped Prometheus config and alert rules', () => {
  const promtool = async (...args: string[]) => {
    const { code, output } = await run('promtool', args);
    expect(code, `promtool ${args.join(' ')}:\n${output}`).toBe(0);
    return output;
  };

  it('prometheus.yml is a valid config and loads alerts.yml', async () => {
    expect(await promtool('check', 'config', 'prometheus.yml')).toContain(
      'SUCCESS: 1 rule files found',
    );
  });

  it('alerts.yml is valid', async () => {
    expect(await promtool('check', 'rules', 'alerts.yml')).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('every alert fires where it should and not where it should not (alerts.test.yml)', async () => {
    await promtool('test', 'rules', 'alerts.test.yml');
  });

  it('every alert waits (for), has a severity, says what and where, and is tested both ways', async () => {
    const { groups } = await yamlOf<{ groups: { rules: Rule[] }[] }>('alerts.yml');
    const { tests } = await yamlOf<{ tests: RuleTest[] }>('alerts.test.yml');
    const cases = tests.flatMap((test) => test.alert_rule_test ?? []);
    const alerts = groups.flatMap((group) => group.rules).filter((rule) => rule.alert);
    expect(alerts.length).toBeGreaterThanOrEqual(8);
    for (const rule of alerts) {
      const name = rule.alert as string;
      expect(rule.for, `${name}: for`).toMatch(/^\d+[smh]$/);
      expect(['critical', 'warning'], `${name}: severity`).toContain(rule.labels?.severity);
      expect(Object.keys(rule.annotations ?? {}).sort(), name).toEqual(['description', 'summary']);
      // An alert per queue or per schedule names it in what it says.
      for (const [label, used] of [
        ['queue', /\bby \(queue\)/.test(rule.expr)],
        ['schedule', /errand_schedule_/.test(rule.expr)],
      ] as const) {
        if (!used) continue;
        expect(rule.annotations?.summary, `${name}: summary names the ${label}`).toContain(
          `$labels.${label}`,
        );
        expect(rule.annotations?.description, `${name}: description`).toContain(`$labels.${label}`);
      }
      const own = cases.filter((c) => c.alertname === name);
      expect(
        own.some((c) => (c.exp_alerts ?? []).length > 0),
        `${name}: a case where it fires`,
      ).toBe(true);
      expect(
        own.some((c) => (c.exp_alerts ?? []).length === 0),
        `${name}: a case where it does not`,
      ).toBe(true);
    }
  });
});
