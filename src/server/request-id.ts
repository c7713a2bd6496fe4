// Request ids: `req_` and 32 hex digits, the first 12 the time in ms and the other 20 random
// (80 bits). Time-ordered ids keep the usage table's primary-key inserts at the end of the index:
// random ones cost SQLite 2-3× more per record, and far more once the index outgrows the page cache.
import { randomFillSync } from 'node:crypto';

// Random bytes are drawn 4 KB at a time (one call per ~400 ids). Each id is written as bytes and
// read back as one flat string: concatenating its parts built a rope of three strings, flattened
// (copied) the first time the id is hashed, and the id is retained by the bounded memories of
// settled requests and feedback.
const POOL_SIZE = 4096;
const RANDOM_BYTES = 10;
const ID_LENGTH = 36;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;
const HEX = Buffer.from('0123456789abcdef', 'latin1');
const id = Buffer.from('req_'.padEnd(ID_LENGTH, '0'), 'latin1');

export function newRequestId(now = Date.now()): string {
  if (offset + RANDOM_BYTES > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  let time = now;
  for (let i = 15; i >= 4; i--) {
    id[i] = HEX[time % 16];
    time = Math.floor(time / 16);
  }
  for (let i = 0; i < RANDOM_BYTES; i++) {
    const byte = pool[offset + i];
    id[16 + 2 * i] = HEX[byte >> 4];
    id[17 + 2 * i] = HEX[byte & 15];
  }
  offset += RANDOM_BYTES;
  return id.toString('latin1', 0, ID_LENGTH);
}

const GATEWAY_ID = /^req_[0-9a-f]{32}$/;

/** When an id this gateway made was made (ms), which is its usage record's `ts`; undefined for any other id. */
export function requestIdTime(requestId: string): number | undefined {
  return GATEWAY_ID.test(requestId) ? Number.parseInt(requestId.slice(4, 16), 16) : undefined;
}
