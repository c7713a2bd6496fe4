// Request ids: `req_` and 32 hex digits, the first 12 the time in ms and the other 20 random
// (80 bits). Time-ordered ids keep the usage table's primary-key inserts at the end of the index:
// random ones cost SQLite 2-3× more per record, and far more once the index outgrows the page cache.
import { randomFillSync } from 'node:crypto';

// Random bytes are drawn 4 KB at a time (one call per ~400 ids) and read as hex in place: no UUID
// formatting and slicing per request.
const POOL_SIZE = 4096;
const RANDOM_BYTES = 10;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

export function newRequestId(now = Date.now()): string {
  if (offset + RANDOM_BYTES > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const random = pool.toString('hex', offset, offset + RANDOM_BYTES);
  offset += RANDOM_BYTES;
  return `req_${now.toString(16).padStart(12, '0')}${random}`;
}
