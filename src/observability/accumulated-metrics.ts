// Counters and histograms for the request path whose per-request cost is a few additions on plain
// numbers. The caller holds one series object per label set; prom-client sees the values only when
// Prometheus scrapes, through the contract its Registry reads from every metric (`name`, `help`,
// `type`, `aggregator`, `get()`, `reset()`). `get()` returns exactly what prom-client's own Counter and
// Histogram return for the same observations, so the exposition is byte-for-byte the same
// (metrics.test.ts compares the two).
//
// Series are listed in the order of their first observation, as prom-client lists them.
import type client from 'prom-client';

type LabelSet = Record<string, string>;

interface ExportedValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
  exemplar?: null;
}

interface ExportedMetric {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: ExportedValue[];
  aggregator: 'sum';
}

interface MetricOptions {
  name: string;
  help: string;
  labelNames: readonly string[];
  registry: client.Registry;
}

abstract class AccumulatedMetric<S extends { listed: boolean; labels: LabelSet }> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly aggregator = 'sum';
  /** Every series ever created, observed or not; lookups off the hot path (callers cache series). */
  private readonly byValues = new Map<string, S>();
  /** Observed series, in the order of their first observation since the last reset. */
  protected listed: S[] = [];

  constructor(options: MetricOptions) {
    // prom-client exports an unlabelled series before it is observed; these export observed series only.
    if (options.labelNames.length === 0) throw new Error(`${options.name}: needs labels (use prom-client for an unlabelled metric)`);
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    // The Registry accepts any object with this contract, but its typings name only its own classes.
    options.registry.registerMetric(this as unknown as client.Metric);
  }

  /** The series for these label values (in `labelNames` order); it is exported once observed. */
  series(...values: string[]): S {
    if (values.length !== this.labelNames.length) throw new Error(`${this.name}: expected ${this.labelNames.length} label values`);
    const key = values.join('\u0000');
    let s = this.byValues.get(key);
    if (!s) {
      const labels: LabelSet = {};
      for (let i = 0; i < values.length; i++) labels[this.labelNames[i]] = values[i];
      s = this.create(labels);
      this.byValues.set(key, s);
    }
    return s;
  }

  /** Called by a series on its first observation. */
  list(s: S): void {
    s.listed = true;
    this.listed.push(s);
  }

  /** Like prom-client's reset: every series starts again from zero and leaves the exposition until observed. */
  reset(): void {
    for (const s of this.byValues.values()) this.clear(s);
    this.listed = [];
  }

  protected abstract create(labels: LabelSet): S;
  protected abstract clear(s: S): void;
  abstract get(): Promise<ExportedMetric>;
}

export class CounterSeries {
  value = 0;
  listed = false;

  constructor(
    readonly labels: LabelSet,
    private readonly metric: AccumulatedCounter,
  ) {}

  /** Adds a finite, non-negative amount (prom-client throws on the others too). */
  inc(amount: number): void {
    if (!Number.isFinite(amount) || amount < 0) throw new TypeError(`${this.metric.name}: not a valid increment: ${amount}`);
    this.value += amount;
    if (!this.listed) this.metric.list(this);
  }
}

export class AccumulatedCounter extends AccumulatedMetric<CounterSeries> {
  readonly type = 'counter';

  protected create(labels: LabelSet): CounterSeries {
    return new CounterSeries(labels, this);
  }

  protected clear(s: CounterSeries): void {
    s.value = 0;
    s.listed = false;
  }

  async get(): Promise<ExportedMetric> {
    return {
      help: this.help,
      name: this.name,
      type: this.type,
      values: this.listed.map((s) => ({ value: s.value, labels: s.labels })),
      aggregator: this.aggregator,
    };
  }
}

export class HistogramSeries {
  /** Observations per bucket (not cumulative), in bound order; those above the last bound are only in `count`. */
  readonly buckets: Float64Array;
  sum = 0;
  count = 0;
  listed = false;

  constructor(
    readonly labels: LabelSet,
    private readonly metric: AccumulatedHistogram,
  ) {
    this.buckets = new Float64Array(metric.upperBounds.length);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`${this.metric.name}: not a valid number: ${value}`);
    const bounds = this.metric.upperBounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    if (i < bounds.length) this.buckets[i]++;
    this.sum += value;
    this.count++;
    if (!this.listed) this.metric.list(this);
  }
}

export class AccumulatedHistogram extends AccumulatedMetric<HistogramSeries> {
  readonly type = 'histogram';
  readonly upperBounds: readonly number[];

  constructor(options: MetricOptions & { buckets: readonly number[] }) {
    if (options.labelNames.includes('le')) throw new Error('le is a reserved label keyword');
    super(options);
    this.upperBounds = [...options.buckets];
  }

  protected create(labels: LabelSet): HistogramSeries {
    return new HistogramSeries(labels, this);
  }

  protected clear(s: HistogramSeries): void {
    s.buckets.fill(0);
    s.sum = 0;
    s.count = 0;
    s.listed = false;
  }

  async get(): Promise<ExportedMetric> {
    const bucketName = `${this.name}_bucket`;
    const values: ExportedValue[] = [];
    for (const s of this.listed) {
      let cumulative = 0;
      for (let i = 0; i < this.upperBounds.length; i++) {
        cumulative += s.buckets[i];
        values.push({ value: cumulative, metricName: bucketName, exemplar: null, labels: { le: this.upperBounds[i], ...s.labels } });
      }
      values.push({ value: s.count, metricName: bucketName, exemplar: null, labels: { le: '+Inf', ...s.labels } });
      values.push({ value: s.sum, metricName: `${this.name}_sum`, exemplar: undefined, labels: { ...s.labels } });
      values.push({ value: s.count, metricName: `${this.name}_count`, exemplar: undefined, labels: { ...s.labels } });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
