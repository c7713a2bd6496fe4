// The configuration file's schema. Field names stay snake_case as written in YAML so that a path in
// an error message is exactly what the user has to look for in the file.
import { z } from 'zod';
import type { ProviderType } from '../providers/types.ts';
import {
  DEFAULT_SQLITE_PATH,
  DEPLOYMENT_DEFAULTS,
  LOG_LEVELS,
  MODEL_MODES,
  SERVER_DEFAULTS,
} from './defaults.ts';
import { formatPath } from './errors.ts';
import { clusterSchema } from './cluster-schema.ts';
import { governanceSchema, keyDeclSchema, teamDeclSchema } from './governance-schema.ts';
import { balancerSchema, modelTimeoutsSchema, routingSchema, strategySchema } from './routing-schema.ts';
import { closestMatch } from './suggest.ts';
import { cacheSchema } from '../cache/config.ts';
import { usageSchema } from '../usage/config.ts';
import { observabilitySchema } from '../observability/config.ts';

// A record keyed by the union makes the compiler reject a list that misses or invents a type.
const PROVIDER_TYPE_FLAGS: Record<ProviderType, true> = {
  openai: true,
  azure: true,
  deepseek: true,
  groq: true,
  mistral: true,
  together: true,
  fireworks: true,
  xai: true,
  perplexity: true,
  openrouter: true,
  vllm: true,
  ollama: true,
  lmstudio: true,
  'openai-compatible': true,
  anthropic: true,
  gemini: true,
  vertex: true,
  bedrock: true,
};

export const PROVIDER_TYPES = Object.keys(PROVIDER_TYPE_FLAGS) as [ProviderType, ...ProviderType[]];

/** Provider types that have no well-known endpoint. */
export const BASE_URL_REQUIRED: ReadonlySet<ProviderType> = new Set<ProviderType>(['azure', 'openai-compatible']);

export const PROVIDER_NAME_PATTERN = /^[a-zA-Z0-9_.-]+$/;

const positiveInt = () => z.int().positive();
const nonNegative = () => z.number().nonnegative();
const urlWithScheme = (schemes: RegExp, label: string) =>
  z.url({ protocol: schemes, error: `must be a ${label} URL` });

export const serverSchema = z.strictObject({
  host: z.string().min(1).default(SERVER_DEFAULTS.host),
  port: z.int().min(0).max(65535).default(SERVER_DEFAULTS.port),
  master_key: z.string().min(1).optional(),
  body_limit_mb: z.number().positive().default(SERVER_DEFAULTS.body_limit_mb),
  request_timeout_ms: positiveInt().default(SERVER_DEFAULTS.request_timeout_ms),
  first_token_timeout_ms: positiveInt().default(SERVER_DEFAULTS.first_token_timeout_ms),
  log_level: z.enum(LOG_LEVELS).default(SERVER_DEFAULTS.log_level),
  /** Slow clients: time to send all request headers, and the whole request (headers and body). */
  client_headers_timeout_ms: positiveInt().default(SERVER_DEFAULTS.client_headers_timeout_ms),
  client_body_timeout_ms: positiveInt().default(SERVER_DEFAULTS.client_body_timeout_ms),
  /** An idle keep-alive connection is closed after this long. */
  keep_alive_timeout_ms: positiveInt().default(SERVER_DEFAULTS.keep_alive_timeout_ms),
  /** V8's old-generation growth after each full GC, in percent; 0 = V8's own heuristics. */
  heap_growth_percent: z.int().min(0).max(1000).default(SERVER_DEFAULTS.heap_growth_percent),
});

export const storageSchema = z.strictObject({
  sqlite: z.string().min(1).default(DEFAULT_SQLITE_PATH),
  postgres: urlWithScheme(/^postgres(ql)?$/, 'postgres://').optional(),
  redis: urlWithScheme(/^rediss?$/, 'redis://').optional(),
});

export const providerSchema = z
  .strictObject({
    name: z.string().regex(PROVIDER_NAME_PATTERN, 'may only contain letters, digits, "_", "." and "-"'),
    type: z.enum(PROVIDER_TYPES),
    base_url: urlWithScheme(/^https?$/, 'http(s)').optional(),
    api_key: z.string().optional(),
    api_version: z.string().optional(),
    region: z.string().optional(),
    project: z.string().optional(),
    location: z.string().optional(),
    aws_access_key_id: z.string().optional(),
    aws_secret_access_key: z.string().optional(),
    aws_session_token: z.string().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    timeout_ms: positiveInt().optional(),
    catalog_models: z.boolean().optional(),
  })
  .superRefine((provider, ctx) => {
    if (BASE_URL_REQUIRED.has(provider.type) && provider.base_url === undefined) {
      ctx.addIssue({ code: 'custom', path: ['base_url'], message: `required for provider type "${provider.type}"` });
    }
    if (provider.type === 'vertex' && provider.project === undefined) {
      ctx.addIssue({ code: 'custom', path: ['project'], message: 'required for provider type "vertex"' });
    }
    if (provider.type === 'bedrock' && provider.region === undefined && provider.base_url === undefined) {
      ctx.addIssue({ code: 'custom', path: ['region'], message: 'required for provider type "bedrock" unless base_url is set' });
    }
  });

export const priceSchema = z.strictObject({
  input_per_mtok: nonNegative(),
  output_per_mtok: nonNegative(),
  cached_input_per_mtok: nonNegative().optional(),
  cache_write_per_mtok: nonNegative().optional(),
});

export const capabilitiesSchema = z.strictObject({
  tools: z.boolean().optional(),
  vision: z.boolean().optional(),
  json: z.boolean().optional(),
  reasoning: z.boolean().optional(),
});

export const deploymentSchema = z.strictObject({
  provider: z.string().min(1),
  model: z.string().min(1),
  weight: z.number().positive().default(DEPLOYMENT_DEFAULTS.weight),
  priority: z.int().default(DEPLOYMENT_DEFAULTS.priority),
  region: z.string().optional(),
  rpm: positiveInt().optional(),
  tpm: positiveInt().optional(),
  price: priceSchema.optional(),
  context_window: positiveInt().optional(),
  max_output_tokens: positiveInt().optional(),
  capabilities: capabilitiesSchema.optional(),
  /** A key for this deployment only, overriding the provider's (several keys of one account). */
  api_key: z.string().optional(),
});

export const modelGroupSchema = z.strictObject({
  name: z.string().min(1),
  aliases: z.array(z.string().min(1)).optional(),
  mode: z.enum(MODEL_MODES).default('chat'),
  fallbacks: z.array(z.string().min(1)).optional(),
  /** Default strategy for requests to this model (overrides routing.strategy). */
  strategy: strategySchema.optional(),
  balancer: balancerSchema.optional(),
  timeouts: modelTimeoutsSchema.optional(),
  deployments: z.array(deploymentSchema).min(1, 'needs at least one deployment'),
});

const configShape = {
  server: serverSchema.prefault({}),
  storage: storageSchema.prefault({}),
  providers: z.array(providerSchema).default(() => []),
  models: z.array(modelGroupSchema).default(() => []),
  // Reserved for sections specified later; accepted as-is so configs can be written ahead of them.
  teams: z.array(teamDeclSchema).default(() => []),
  keys: z.array(keyDeclSchema).default(() => []),
  routing: routingSchema.prefault({}),
  governance: governanceSchema.prefault({}),
  cluster: clusterSchema.prefault({}),
  usage: usageSchema.prefault({}),
  observability: observabilitySchema.prefault({}),
  cache: cacheSchema.prefault({}),
};

export type ServerConfig = z.output<typeof serverSchema>;
export type StorageConfig = z.output<typeof storageSchema>;
export type ProviderConfig = z.output<typeof providerSchema>;
export type PriceConfig = z.output<typeof priceSchema>;
export type CapabilitiesConfig = z.output<typeof capabilitiesSchema>;
export type DeploymentConfig = z.output<typeof deploymentSchema>;
export type ModelGroupConfig = z.output<typeof modelGroupSchema>;

export interface ConfigSchemaOptions {
  /**
   * Providers that exist without being written in the file (auto-enabled from the environment);
   * deployments may reference them.
   */
  implicitProviders?: readonly ProviderConfig[];
}

/** Builds the schema; cross-field checks run once `providers` and `models` are individually valid. */
export function createConfigSchema(options: ConfigSchemaOptions = {}) {
  const implicit = options.implicitProviders ?? [];
  return z.strictObject(configShape).superRefine(
    (config, ctx) => checkCrossReferences(config, implicit, ctx),
    { when: (payload) => !payload.issues.some(breaksReferenceCheck) },
  );
}

export const configSchema = createConfigSchema();

export type SwitchyardConfig = z.output<typeof configSchema>;
export type SwitchyardConfigInput = z.input<typeof configSchema>;

interface CrossCheckInput {
  providers: ProviderConfig[];
  models: ModelGroupConfig[];
}

type RefinementCtx = z.core.$RefinementCtx<unknown>;
type Path = (string | number)[];

// A malformed document, provider or model would make the reference checks read garbage. Custom issues
// (from the per-provider refinement) and unknown keys leave the parsed shape intact.
function breaksReferenceCheck(issue: z.core.$ZodRawIssue | z.core.$ZodIssue): boolean {
  if (issue.code === 'custom' || issue.code === 'unrecognized_keys') return false;
  const section = issue.path?.[0];
  return section === undefined || section === 'providers' || section === 'models';
}

function checkCrossReferences(config: CrossCheckInput, implicit: readonly ProviderConfig[], ctx: RefinementCtx): void {
  const providerNames = checkUniqueProviders(config.providers, ctx);
  for (const provider of implicitProvidersToAdd(config.providers, implicit)) providerNames.add(provider.name);
  const groups = checkUniqueModelNames(config.models, ctx);
  checkDeploymentProviders(config.models, providerNames, ctx);
  // Providers with catalog_models add groups only the catalog knows; the registry checks those names.
  const catalogGroups = config.providers.some((p) => p.catalog_models) || implicit.some((p) => p.catalog_models);
  checkFallbacks(config.models, groups, catalogGroups, ctx);
}

/** Environment providers are shadowed by any configured provider of the same name or type. */
export function implicitProvidersToAdd(
  configured: readonly ProviderConfig[],
  candidates: readonly ProviderConfig[],
): ProviderConfig[] {
  const names = new Set(configured.map((p) => p.name));
  const types = new Set(configured.map((p) => p.type));
  return candidates.filter((p) => !names.has(p.name) && !types.has(p.type));
}

function checkUniqueProviders(providers: ProviderConfig[], ctx: RefinementCtx): Set<string> {
  const seen = new Map<string, number>();
  providers.forEach((provider, i) => {
    const first = seen.get(provider.name);
    if (first === undefined) seen.set(provider.name, i);
    else report(ctx, ['providers', i, 'name'], `duplicate provider name "${provider.name}" (first defined at providers[${first}])`);
  });
  return new Set(seen.keys());
}

/** Returns every group name and alias mapped to the index of the group it designates. */
function checkUniqueModelNames(models: ModelGroupConfig[], ctx: RefinementCtx): Map<string, number> {
  const owners = new Map<string, { index: number; where: string }>();
  const claim = (name: string, index: number, path: Path) => {
    const owner = owners.get(name);
    if (owner === undefined) owners.set(name, { index, where: formatPath(path) });
    else report(ctx, path, `duplicate model name "${name}" (already used by ${owner.where})`);
  };
  models.forEach((group, i) => {
    claim(group.name, i, ['models', i, 'name']);
    group.aliases?.forEach((alias, k) => claim(alias, i, ['models', i, 'aliases', k]));
  });
  return new Map([...owners].map(([name, owner]) => [name, owner.index]));
}

function checkDeploymentProviders(models: ModelGroupConfig[], providers: Set<string>, ctx: RefinementCtx): void {
  models.forEach((group, i) =>
    group.deployments.forEach((deployment, j) => {
      if (!providers.has(deployment.provider)) {
        const message = `unknown provider "${deployment.provider}"${didYouMean(deployment.provider, [...providers])}`;
        report(ctx, ['models', i, 'deployments', j, 'provider'], message);
      }
    }),
  );
}

function checkFallbacks(models: ModelGroupConfig[], groups: Map<string, number>, catalogGroups: boolean, ctx: RefinementCtx): void {
  models.forEach((group, i) =>
    group.fallbacks?.forEach((fallback, k) => {
      const path = ['models', i, 'fallbacks', k];
      const target = groups.get(fallback);
      if (target === undefined) {
        if (!catalogGroups) report(ctx, path, `unknown model group "${fallback}"${didYouMean(fallback, [...groups.keys()])}`);
      }
      else if (target === i) report(ctx, path, `model group "${group.name}" cannot fall back to itself`);
      else if (models[target].mode !== group.mode) {
        report(ctx, path, `fallback "${fallback}" is a ${models[target].mode} model group, "${group.name}" is ${group.mode}`);
      }
    }),
  );
}

function didYouMean(word: string, candidates: string[]): string {
  const match = closestMatch(word, candidates);
  return match === undefined ? '' : ` (did you mean "${match}"?)`;
}

function report(ctx: RefinementCtx, path: Path, message: string): void {
  ctx.addIssue({ code: 'custom', path, message });
}

