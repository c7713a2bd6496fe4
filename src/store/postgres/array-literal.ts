// PostgreSQL array literals for unnest parameters (shared by the usage sink and the analytics rollups).
/**
 * A PostgreSQL array literal for one column of a batch, built directly (faster than letting pg convert a
 * JS array element by element). Text is always quoted, so the string "NULL" stays a string; numbers are
 * finite and integers stay below 1e21 after normalisation, so `String(n)` never yields a form the
 * column type rejects.
 */
export function arrayLiteral(values: readonly unknown[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    const v = values[i];
    if (v === undefined || v === null) out += 'NULL';
    else if (typeof v === 'number') out += String(v);
    else if (typeof v === 'boolean') out += v ? 't' : 'f';
    else {
      const str = String(v);
      out += `"${str.includes('\\') || str.includes('"') ? str.replace(/[\\"]/g, '\\$&') : str}"`;
    }
  }
  return `${out}}`;
}
