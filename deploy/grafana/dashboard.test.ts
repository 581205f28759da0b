import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const GRAFANA = import.meta.dirname;

interface Target {
  refId: string;
  expr: string;
  datasource: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}
interface Variable {
  name: string;
  type: string;
  current?: { value: unknown };
}

/** Grafana's reference to the `datasource` variable. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template
const BY_VARIABLE = { type: 'prometheus', uid: '${datasource}' };

const read = (...path: string[]) => readFile(join(GRAFANA, ...path), 'utf8');

/**
 * The dashboard as Grafana provisions it: what no running Grafana is needed to check. Its
 * queries run on a real Prometheus in deploy/prometheus/prometheus.e2e.test.ts, and its
 * metric names are checked against the apps in deploy/metric-names.test.ts.
 */
describe('the Grafana dashboard and its provisioning', () => {
  it('keeps its uid, picks the provisioned data source through a variable, and filters by queue', async () => {
    const dashboard = JSON.parse(await read('dashboards', 'errand.json'));
    expect(dashboard.uid).toBe('errand-overview');
    expect(dashboard.id ?? null).toBeNull();
    expect(dashboard.schemaVersion).toBe(39);
    const variables: Variable[] = dashboard.templating.list;
    const { datasources } = parse(await read('provisioning', 'datasources', 'prometheus.yml'));
    expect(variables.find((v) => v.name === 'datasource')).toMatchObject({
      type: 'datasource',
      current: { value: datasources[0].uid },
    });
    expect(variables.find((v) => v.name === 'queue')).toMatchObject({ type: 'query', multi: true });

    const panels: Panel[] = dashboard.panels;
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    const queries = panels.filter((p) => p.type !== 'row');
    for (const panel of queries) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const source of [panel.datasource, ...(panel.targets ?? []).map((t) => t.datasource)]) {
        expect(source, panel.title).toEqual(BY_VARIABLE);
      }
      // Every series with a `queue` label follows the queue picker.
      for (const { expr } of panel.targets ?? []) {
        if (/errand_(queue_|jobs?_)/.test(expr))
          expect(expr, panel.title).toContain('queue=~"$queue"');
      }
    }
  });

  it('lays panels out on the 24-column grid without overlaps', async () => {
    const panels: Panel[] = JSON.parse(await read('dashboards', 'errand.json')).panels;
    const cells = new Map<string, string>();
    for (const { title, gridPos: g } of panels) {
      expect(g.x + g.w, title).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.get(`${x},${y}`), `${title} overlaps`).toBeUndefined();
          cells.set(`${x},${y}`, title);
        }
      }
    }
  });

  it('provisions the dashboards folder from files, not editable in the UI', async () => {
    const { providers } = parse(await read('provisioning', 'dashboards', 'errand.yml'));
    expect(providers).toEqual([
      expect.objectContaining({
        type: 'file',
        allowUiUpdates: false,
        options: expect.objectContaining({ path: '/var/lib/grafana/dashboards' }),
      }),
    ]);
  });
});
