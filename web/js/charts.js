// Time-series charts on uPlot (served by the gateway from node_modules; nothing from the network).
import uPlot from '../vendor/uplot.esm.js';
import { h } from './dom.js';

export const PALETTE = ['#2563eb', '#16a34a', '#f59e0b', '#dc2626', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#475569', '#ea580c'];

/**
 * @typedef {object} Series
 * @property {string} label
 * @property {(number | null)[]} values one per time
 * @property {string} [color]
 * @property {boolean} [fill] shade the area below the line
 * @property {boolean} [dash]
 */

/**
 * @typedef {object} TimeChartOptions
 * @property {number[]} times epoch seconds
 * @property {Series[]} series
 * @property {(v: number) => string} format y values, in axis and legend
 * @property {number} [height]
 * @property {string} [testId]
 * @property {string} [empty] text when there is no data
 * @property {number} [pad] seconds either side of a single point (default an hour)
 */

/**
 * A line chart over time that follows its container's width. Returns the element and a destroy
 * function (call it when the page goes away).
 * @param {TimeChartOptions} options
 */
export function timeChart(options) {
  const el = h('div', { class: 'chart', 'data-testid': options.testId ?? null });
  const hasData = options.times.length > 0 && options.series.some((s) => s.values.some((v) => v !== null && v !== undefined));
  if (!hasData) {
    el.append(h('div', { class: 'chart-empty' }, options.empty ?? 'No data in this time range.'));
    el.dataset.points = '0';
    return { el, destroy() {} };
  }
  el.dataset.points = String(options.times.length);
  /** @type {uPlot | null} */
  let plot = null;
  const height = options.height ?? 240;
  const fmt = options.format;
  /** @type {uPlot.Options} */
  const opts = {
    width: 600,
    height,
    cursor: { drag: { x: true, y: false } },
    legend: { live: true },
    scales: {
      // One point alone would get an axis spanning years: give it a bucket's width either side.
      x: options.times.length === 1 ? { time: true, range: [options.times[0] - (options.pad ?? 3600), options.times[0] + (options.pad ?? 3600)] } : { time: true },
      y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
    },
    axes: [
      { stroke: '#7a8494', grid: { stroke: '#eef1f5', width: 1 }, ticks: { stroke: '#e2e6ec', width: 1 } },
      { stroke: '#7a8494', size: 72, grid: { stroke: '#eef1f5', width: 1 }, ticks: { stroke: '#e2e6ec', width: 1 }, values: (_u, vals) => vals.map((v) => fmt(v)) },
    ],
    series: [
      { label: 'Time', value: (_u, v) => (v === null ? '—' : new Date(v * 1000).toLocaleString('en-GB', { month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit' })) },
      ...options.series.map((s, i) => {
        const color = s.color ?? PALETTE[i % PALETTE.length];
        return {
          label: s.label,
          stroke: color,
          width: 2,
          fill: s.fill ? `${color}22` : undefined,
          dash: s.dash ? [6, 4] : undefined,
          spanGaps: true,
          // A lone value between gaps is no line at all: draw the points then.
          points: { show: options.times.length < 40 || s.values.filter((v) => v !== null && v !== undefined).length <= 2, size: 6 },
          /** @type {(u: uPlot, v: number | null) => string} */
          value: (_u, v) => (v === null || v === undefined ? '—' : fmt(v)),
        };
      }),
    ],
  };
  /** @type {uPlot.AlignedData} */
  const data = [options.times, ...options.series.map((s) => s.values)];
  const observer = new ResizeObserver(() => {
    const width = Math.max(260, Math.floor(el.clientWidth));
    if (!plot) plot = new uPlot({ ...opts, width }, data, el);
    else if (Math.abs(plot.width - width) > 2) plot.setSize({ width, height });
  });
  observer.observe(el);
  return {
    el,
    destroy() {
      observer.disconnect();
      plot?.destroy();
    },
  };
}

/**
 * Aligns several series of `{t, …}` points on one time axis.
 * @template {{ t: string }} P
 * @param {{ group: string | null, points: P[] }[]} series
 * @param {(p: P) => number | null} pick
 */
export function alignSeries(series, pick) {
  const times = [...new Set(series.flatMap((s) => s.points.map((p) => Date.parse(p.t) / 1000)))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const aligned = series.map((s) => {
    /** @type {(number | null)[]} */
    const values = new Array(times.length).fill(null);
    for (const p of s.points) values[/** @type {number} */ (index.get(Date.parse(p.t) / 1000))] = pick(p);
    return { group: s.group, values };
  });
  return { times, aligned };
}
