// Semantic mode's embeddings: the conversation text sent to an embedding model group of the config,
// through the same adapters and pooled connections as client embedding requests.
import type { Usage } from '../core/canonical.ts';
import type { RequestSignal } from '../core/abort.ts';
import { GatewayError } from '../core/errors.ts';
import type { HealthRegistry } from '../routing/health/index.ts';
import type { Deployment, ModelGroup } from '../routing/registry.ts';
import type { UpstreamPools } from '../providers/upstream.ts';
import { normalise } from './store.ts';

export interface Embedding {
  vector: Float32Array;
  usage: Usage;
  deployment: Deployment;
}

export interface Embedder {
  readonly model: string;
  embed(text: string, signal: RequestSignal): Promise<Embedding>;
}

/** Embedding inputs are capped: the start of a conversation is what tells it apart. */
const MAX_CHARS = 8000;

export class GroupEmbedder implements Embedder {
  constructor(
    private readonly group: ModelGroup,
    private readonly pools: UpstreamPools,
    private readonly health: HealthRegistry,
    private readonly timeoutMs: number,
  ) {}

  get model(): string {
    return this.group.name;
  }

  /** Tries the group's deployments in priority order, healthy ones first. */
  async embed(text: string, signal: RequestSignal): Promise<Embedding> {
    const now = Date.now();
    const order = [...this.group.deployments].sort(
      (a, b) => Number(!this.health.get(a.id).available(now)) - Number(!this.health.get(b.id).available(now)) || a.priority - b.priority,
    );
    let last: unknown;
    for (const deployment of order) {
      const { adapter, target } = deployment;
      if (!adapter.embeddingsRequest || !adapter.embeddingsResponse) continue;
      const req = { model: target.model, input: text.slice(0, MAX_CHARS) };
      try {
        const upstream = await this.pools.send(target.endpoint, adapter.embeddingsRequest(req, target), signal, { headersMs: this.timeoutMs, bodyMs: this.timeoutMs });
        const body = await upstream.body.text();
        if (upstream.status >= 300) throw adapter.error(upstream.status, upstream.headers, body, target);
        const response = adapter.embeddingsResponse(JSON.parse(body), target, req);
        const values = response.data[0]?.embedding;
        if (!Array.isArray(values) || values.length === 0) throw new GatewayError('upstream', `${target.endpoint.name}: no embedding in the response`, { code: 'malformed_response' });
        const usage: Usage = { prompt_tokens: response.usage.prompt_tokens, completion_tokens: 0, total_tokens: response.usage.total_tokens };
        return { vector: normalise(values), usage, deployment };
      } catch (err) {
        last = err;
      }
    }
    throw last ?? new GatewayError('bad_request', `model group '${this.group.name}' has no deployment that serves embeddings`, { code: 'unsupported_operation' });
  }
}
