// Identifiers in OpenAI's style: a type prefix and random hex (`resp_…`, `msg_…`, `fc_…`).
import { randomUUID } from 'node:crypto';

export type ItemPrefix = 'resp' | 'msg' | 'fc' | 'fco';

export function itemId(prefix: ItemPrefix): string {
  return `${prefix}_${randomUUID().replaceAll('-', '')}`;
}
