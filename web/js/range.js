// The time range shared by the pages (kept per tab), and its picker.
import { h } from './dom.js';

/**
 * @typedef {{ label: string, ms: number, bucket: 'minute' | 'hour' | 'day' }} RangeChoice
 * @typedef {{ from: string, to: string, bucket: 'minute' | 'hour' | 'day', label: string }} Range
 */

/** @type {RangeChoice[]} */
export const RANGES = [
  { label: '15m', ms: 15 * 60_000, bucket: 'minute' },
  { label: '1h', ms: 3_600_000, bucket: 'minute' },
  { label: '6h', ms: 6 * 3_600_000, bucket: 'minute' },
  { label: '24h', ms: 24 * 3_600_000, bucket: 'hour' },
  { label: '7d', ms: 7 * 24 * 3_600_000, bucket: 'hour' },
  { label: '30d', ms: 30 * 24 * 3_600_000, bucket: 'day' },
];
const RANGE_KEY = 'switchyard.range';

function selectedRange() {
  const label = sessionStorage.getItem(RANGE_KEY);
  return RANGES.find((r) => r.label === label) ?? RANGES[1];
}

/** The selected range, ending now. @returns {Range} */
export function currentRange() {
  const choice = selectedRange();
  const to = Date.now();
  return { from: new Date(to - choice.ms).toISOString(), to: new Date(to).toISOString(), bucket: choice.bucket, label: choice.label };
}

/**
 * Buttons for the ranges; choosing one calls `onChange`.
 * @param {() => void} onChange
 */
export function rangePicker(onChange) {
  const current = selectedRange();
  const group = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Time range', 'data-testid': 'range' });
  for (const choice of RANGES) {
    group.append(
      h(
        'button',
        {
          type: 'button',
          class: choice.label === current.label ? 'active' : '',
          onclick: () => {
            sessionStorage.setItem(RANGE_KEY, choice.label);
            for (const b of group.querySelectorAll('button')) b.classList.toggle('active', b.textContent === choice.label);
            onChange();
          },
        },
        choice.label,
      ),
    );
  }
  return group;
}
