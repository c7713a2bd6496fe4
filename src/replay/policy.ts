// A replay policy: the `routing:` section of the config and, optionally, a `models:` list that replaces
// the configured model groups. Given as YAML text (the CLI's file, or a string in the admin API) or as
// an already-parsed object; validated with the config file's own schemas.
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { routingSchema, type RoutingConfig } from '../config/routing-schema.ts';
import { modelGroupSchema, type ModelGroupConfig, type SwitchyardConfig } from '../config/schema.ts';
import { GatewayError } from '../core/errors.ts';

const policySchema = z.strictObject({
  routing: routingSchema.prefault({}),
  models: z.array(modelGroupSchema).min(1).optional(),
});

export interface ReplayPolicy {
  routing: RoutingConfig;
  /** Replaces the configured model groups when given. */
  models?: ModelGroupConfig[];
}

function invalid(message: string, param: string): never {
  throw new GatewayError('bad_request', message, { param, code: 'invalid_policy' });
}

/** Parses and validates a policy; errors are 400s naming the field (`policy.routing.strategy`). */
export function parsePolicy(input: unknown): ReplayPolicy {
  let data = input;
  if (typeof input === 'string') {
    const doc = parseDocument(input, { uniqueKeys: true, prettyErrors: false });
    if (doc.errors.length > 0) invalid(`policy: YAML syntax error: ${doc.errors[0].message}`, 'policy');
    data = doc.toJS() ?? {};
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) invalid('policy: expected an object with routing: and optionally models:', 'policy');
  const result = policySchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = ['policy', ...issue.path.map(String)];
    const detail = issue.code === 'unrecognized_keys' ? `unknown field "${issue.keys[0]}" (a policy has routing: and models:)` : issue.message;
    invalid(`${path.join('.')}: ${detail}`, path.join('.'));
  }
  const policy: ReplayPolicy = { routing: result.data.routing };
  if (result.data.models) policy.models = result.data.models;
  return policy;
}

/** The config the policy describes: the running one with its routing (and models) replaced. */
export function applyPolicy(config: SwitchyardConfig, policy: ReplayPolicy): SwitchyardConfig {
  const models = policy.models ?? config.models;
  const providers = new Set(config.providers.map((p) => p.name));
  const names = new Set<string>();
  models.forEach((group, i) => {
    if (names.has(group.name)) invalid(`policy.models.${i}.name: duplicate model group "${group.name}"`, `policy.models.${i}.name`);
    names.add(group.name);
    group.deployments.forEach((d, j) => {
      if (!providers.has(d.provider)) {
        invalid(`policy.models.${i}.deployments.${j}.provider: unknown provider "${d.provider}" (the policy uses the configured providers: ${[...providers].join(', ') || 'none'})`, `policy.models.${i}.deployments.${j}.provider`);
      }
    });
  });
  // Affinity needs prompt text, which is never recorded.
  return { ...config, models, routing: { ...policy.routing, affinity: { ...policy.routing.affinity, enabled: false } } };
}

/** The routing section as the running config has it: replaying it is the identity (a baseline check). */
export function currentPolicy(config: SwitchyardConfig): ReplayPolicy {
  return { routing: config.routing, models: config.models };
}
