// A stored Responses API turn: what `previous_response_id`, `GET /v1/responses/{id}` and
// `…/input_items` read back.
import type { ConversationItem, ResponseObject } from '../../dialects/responses/types.ts';

export interface StoredResponse {
  id: string;
  /** The virtual key that created it; '' for the master key. Only that key (or the master key) may read it. */
  owner: string;
  /** Unix ms. */
  createdAt: number;
  /** Unix ms after which it is gone (retention). */
  expiresAt: number;
  response: ResponseObject;
  /** The model's whole input for this turn, oldest first: earlier turns' items, then this turn's input (instructions excluded). */
  input: ConversationItem[];
}

/** Durable storage behind the in-memory tier: SQLite on one node, PostgreSQL across replicas. */
export interface ResponseBackend {
  /**
   * Shared by several gateway processes (PostgreSQL): reads then go to the backend, since a local
   * copy could outlive a delete made through another replica.
   */
  readonly shared: boolean;
  /** Resolves once the next request that names this id, on any replica sharing the backend, will find it. */
  put(record: StoredResponse, json: string): Promise<void>;
  get(id: string, now: number): Promise<StoredResponse | undefined>;
  delete(id: string): Promise<void>;
  /** Removes expired rows; returns how many. */
  sweep(now: number): Promise<number>;
  close(): Promise<void>;
}
