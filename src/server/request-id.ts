// Request ids: `req_` and 32 hex digits, the first 12 the time in ms and the other 20 random
// (80 bits). Time-ordered ids keep the usage table's primary-key inserts at the end of the index:
// random ones cost SQLite 2-3× more per record, and far more once the index outgrows the page cache.
import { randomUUID } from 'node:crypto';

export function newRequestId(now = Date.now()): string {
  // A v4 UUID's first 8 and last 12 hex digits are random (the version and variant sit between).
  const uuid = randomUUID();
  return `req_${now.toString(16).padStart(12, '0')}${uuid.slice(0, 8)}${uuid.slice(24)}`;
}
