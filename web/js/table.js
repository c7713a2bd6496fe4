// A sortable data table with a CSV export of the rows it shows, in the order shown (with raw values,
// and columns that only the export carries).
import { download, toCsv } from './csv.js';
import { h, replace } from './dom.js';

/**
 * @template T
 * @typedef {object} Column
 * @property {string} label
 * @property {(row: T) => unknown} value raw value: sorting and CSV
 * @property {(row: T) => Node | string} [render] cell content; default: the value as text
 * @property {boolean} [num] right-aligned
 * @property {boolean} [sortable] default true
 * @property {boolean} [csvOnly] exported, not shown
 */

/**
 * @template T
 * @typedef {object} TableOptions
 * @property {string} title
 * @property {string} csvName file name without extension
 * @property {Column<T>[]} columns
 * @property {string} [empty] text when there are no rows
 * @property {(row: T) => void} [onRowClick]
 * @property {(row: T) => string} [rowId] marks the selected row
 * @property {Node[]} [actions] extra toolbar controls
 * @property {string} [testId]
 */

/**
 * @template T
 * @param {TableOptions<T>} options
 */
export function dataTable(options) {
  /** @type {T[]} */
  let rows = [];
  let sortIndex = -1;
  let sortDir = 1;
  /** @type {string | null} */
  let selected = null;
  const tbody = h('tbody');
  const shown = options.columns.filter((c) => !c.csvOnly);
  const headCells = shown.map((col, i) =>
    h('th', { class: col.num ? 'num' : '', scope: 'col', onclick: () => col.sortable !== false && sortBy(i) }, col.label),
  );
  const count = h('span', { class: 'muted small' });
  const csvButton = h('button', { type: 'button', title: 'Download the rows shown as CSV', onclick: exportCsv }, 'Export CSV');
  const el = h(
    'section',
    { class: 'panel', 'data-testid': options.testId ?? null },
    h('div', { class: 'panel-head' }, h('h2', null, options.title, ' ', count), h('div', { class: 'toolbar' }, ...(options.actions ?? []), csvButton)),
    h('div', { class: 'table-wrap' }, h('table', null, h('thead', null, h('tr', null, ...headCells)), tbody)),
  );

  /** @param {number} i */
  function sortBy(i) {
    sortDir = sortIndex === i ? -sortDir : 1;
    sortIndex = i;
    draw();
  }

  function sorted() {
    if (sortIndex < 0) return rows;
    const value = shown[sortIndex].value;
    return [...rows].sort((a, b) => compare(value(a), value(b)) * sortDir);
  }

  function draw() {
    headCells.forEach((th, i) => {
      th.classList.toggle('sorted-asc', i === sortIndex && sortDir === 1);
      th.classList.toggle('sorted-desc', i === sortIndex && sortDir === -1);
    });
    count.textContent = rows.length ? `(${rows.length})` : '';
    if (rows.length === 0) {
      replace(tbody, h('tr', null, h('td', { class: 'empty', colspan: String(shown.length) }, options.empty ?? 'Nothing to show.')));
      return;
    }
    replace(
      tbody,
      sorted().map((row) => {
        const tr = h(
          'tr',
          { class: options.onRowClick ? 'clickable' : '' },
          shown.map((col) => {
            const content = col.render ? col.render(row) : text(col.value(row));
            return h('td', { class: col.num ? 'num' : '' }, content);
          }),
        );
        if (options.rowId) {
          tr.dataset.id = options.rowId(row);
          if (selected !== null && tr.dataset.id === selected) tr.classList.add('selected');
        }
        if (options.onRowClick) {
          const onRowClick = options.onRowClick;
          tr.tabIndex = 0;
          tr.addEventListener('click', (event) => {
            if (event.target instanceof HTMLButtonElement) return;
            onRowClick(row);
          });
          tr.addEventListener('keydown', (event) => {
            if (event.key === 'Enter' && event.target === tr) onRowClick(row);
          });
        }
        return tr;
      }),
    );
  }

  function exportCsv() {
    const columns = options.columns.filter((c) => c.label !== '');
    download(`${options.csvName}.csv`, toCsv(columns.map((c) => c.label), sorted().map((row) => columns.map((c) => c.value(row)))));
  }

  draw();
  return {
    el,
    /** @param {T[]} next */
    update(next) {
      rows = next;
      draw();
    },
    /** @param {string | null} id */
    select(id) {
      selected = id;
      for (const tr of tbody.querySelectorAll('tr')) tr.classList.toggle('selected', id !== null && tr.dataset.id === id);
    },
    rows: () => rows,
  };
}

/** @param {unknown} v */
function text(v) {
  return v === null || v === undefined || v === '' ? '—' : String(v);
}

/**
 * @param {unknown} a
 * @param {unknown} b
 */
function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}
