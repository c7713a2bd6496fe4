import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { AccumulatedCounter, AccumulatedHistogram } from './accumulated-metrics.ts';

// GatewayMetrics' differential test (metrics.test.ts) covers the request metrics record by record; this
// pins the contract with prom-client's Registry on its own: same text and JSON as Counter and Histogram.
function pair() {
  const ours = new client.Registry();
  const theirs = new client.Registry();
  const counter = new AccumulatedCounter({ name: 'c_total', help: 'a counter', labelNames: ['a', 'b'], registry: ours });
  const histogram = new AccumulatedHistogram({ name: 'h_seconds', help: 'a histogram', labelNames: ['a'], buckets: [0.1, 1, 10], registry: ours });
  const refCounter = new client.Counter({ name: 'c_total', help: 'a counter', labelNames: ['a', 'b'], registers: [theirs] });
  const refHistogram = new client.Histogram({ name: 'h_seconds', help: 'a histogram', labelNames: ['a'], buckets: [0.1, 1, 10], registers: [theirs] });
  return { ours, theirs, counter, histogram, refCounter, refHistogram };
}

async function expectSame(ours: client.Registry, theirs: client.Registry): Promise<void> {
  expect(await ours.metrics()).toBe(await theirs.metrics());
  expect(await ours.getMetricsAsJSON()).toStrictEqual(await theirs.getMetricsAsJSON());
}

describe('accumulated counters and histograms', () => {
  it('expose what prom-client exposes: before any observation, after some, and after a reset', async () => {
    const { ours, theirs, counter, histogram, refCounter, refHistogram } = pair();
    await expectSame(ours, theirs);
    const x = counter.series('x', '1');
    const y = counter.series('y', '2');
    const hx = histogram.series('x');
    const hy = histogram.series('y');
    y.inc(2.5);
    refCounter.inc({ a: 'y', b: '2' }, 2.5);
    x.inc(1);
    refCounter.inc({ a: 'x', b: '1' }, 1);
    for (const v of [10, 0.1, 0.05, 11, 1, 0.1000001]) {
      hy.observe(v);
      refHistogram.observe({ a: 'y' }, v);
    }
    hx.observe(3);
    refHistogram.observe({ a: 'x' }, 3);
    await expectSame(ours, theirs);
    expect(counter.series('x', '1')).toBe(x);

    ours.resetMetrics();
    theirs.resetMetrics();
    await expectSame(ours, theirs);
    hx.observe(0.2);
    refHistogram.observe({ a: 'x' }, 0.2);
    x.inc(4);
    refCounter.inc({ a: 'x', b: '1' }, 4);
    await expectSame(ours, theirs);
  });

  it('refuse what prom-client refuses', () => {
    const { counter, histogram } = pair();
    expect(() => counter.series('x')).toThrow(/expected 2 label values/);
    expect(() => counter.series('x', '1').inc(-1)).toThrow(TypeError);
    expect(() => counter.series('x', '1').inc(Number.POSITIVE_INFINITY)).toThrow(TypeError);
    expect(() => histogram.series('x').observe(Number.NaN)).toThrow(TypeError);
    const registry = new client.Registry();
    expect(() => new AccumulatedHistogram({ name: 'h', help: 'h', labelNames: ['le'], buckets: [1], registry })).toThrow(/reserved/);
    expect(() => new AccumulatedCounter({ name: 'unlabelled', help: 'u', labelNames: [], registry })).toThrow(/needs labels/);
    new AccumulatedCounter({ name: 'dup', help: 'd', labelNames: ['a'], registry });
    expect(() => new client.Counter({ name: 'dup', help: 'd', registers: [registry] })).toThrow(/already been registered/);
  });
});
