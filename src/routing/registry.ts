// The routing snapshot built from one config: model groups, their deployments with resolved
// endpoints, adapters, prices and capabilities. Immutable; a reload builds a new one.
import type { CatalogModel } from '../catalog/catalog.ts';
import { Catalog, PROVIDER_TYPE_TO_CATALOG } from '../catalog/catalog.ts';
import type { ModelPrice } from '../catalog/pricing.ts';
import type { BalancerName, StrategyName } from '../config/routing-schema.ts';
import type { DeploymentConfig, ModelGroupConfig, ProviderConfig, SwitchyardConfig } from '../config/schema.ts';
import { adapterFor, defaultBaseUrl } from '../providers/index.ts';
import type { ProviderAdapter, ProviderEndpoint, Target } from '../providers/types.ts';

/** What a deployment can do; undefined = not known (neither the catalog nor the config says). */
export interface Capabilities {
  tools?: boolean;
  vision?: boolean;
  json?: boolean;
  reasoning?: boolean;
}

export interface Deployment {
  /** Stable id: `<group>/<provider>/<model>`. */
  id: string;
  group: string;
  target: Target;
  adapter: ProviderAdapter;
  /** Undefined when neither the config nor the catalog knows a price (cost is then reported as 0). */
  price: ModelPrice | undefined;
  weight: number;
  priority: number;
  region?: string;
  rpm?: number;
  tpm?: number;
  contextWindow?: number;
  maxOutputTokens?: number;
  capabilities: Capabilities;
  quality: number | null;
  catalogId?: string;
  /** The provider's retirement date for this model, from the catalog. */
  deprecated?: string;
}

export interface ModelGroup {
  name: string;
  mode: 'chat' | 'embedding';
  aliases: readonly string[];
  fallbacks: readonly string[];
  deployments: readonly Deployment[];
  /** Smallest and largest known context window among the deployments (Infinity when unknown). */
  minContextWindow: number;
  maxContextWindow: number;
  /** Unix seconds, for /v1/models. */
  created: number;
  ownedBy: string;
  strategy?: StrategyName;
  balancer?: BalancerName;
  firstTokenTimeoutMs?: number;
  totalTimeoutMs?: number;
}

export class Registry {
  private readonly byName = new Map<string, ModelGroup>();
  readonly groups: readonly ModelGroup[];
  readonly endpoints: ReadonlyMap<string, ProviderEndpoint>;

  constructor(groups: ModelGroup[], endpoints: Map<string, ProviderEndpoint>) {
    this.groups = groups;
    this.endpoints = endpoints;
    for (const group of groups) {
      this.byName.set(group.name, group);
      for (const alias of group.aliases) if (!this.byName.has(alias)) this.byName.set(alias, group);
    }
  }

  resolve(name: string): ModelGroup | undefined {
    return this.byName.get(name);
  }
}

export function resolveEndpoint(provider: ProviderConfig): ProviderEndpoint {
  const base = provider.base_url ?? defaultBaseUrl(provider.type, provider);
  if (!base) throw new Error(`provider ${provider.name}: base_url is required for type ${provider.type}`);
  const url = new URL(base);
  const endpoint: ProviderEndpoint = {
    name: provider.name,
    type: provider.type,
    origin: url.origin,
    basePath: url.pathname.replace(/\/+$/, ''),
    headers: provider.headers ?? {},
  };
  if (provider.api_key) endpoint.apiKey = provider.api_key;
  if (provider.api_version) endpoint.apiVersion = provider.api_version;
  if (provider.region) endpoint.region = provider.region;
  if (provider.project) endpoint.project = provider.project;
  if (provider.location) endpoint.location = provider.location;
  if (provider.aws_access_key_id) endpoint.awsAccessKeyId = provider.aws_access_key_id;
  if (provider.aws_secret_access_key) endpoint.awsSecretAccessKey = provider.aws_secret_access_key;
  if (provider.aws_session_token) endpoint.awsSessionToken = provider.aws_session_token;
  return endpoint;
}

function priceOf(config: DeploymentConfig, entry: CatalogModel | undefined): ModelPrice | undefined {
  if (config.price) {
    return {
      inputPerMtok: config.price.input_per_mtok,
      outputPerMtok: config.price.output_per_mtok,
      cachedInputPerMtok: config.price.cached_input_per_mtok ?? null,
      cacheWritePerMtok: config.price.cache_write_per_mtok ?? null,
    };
  }
  return entry?.price;
}

/** `<group>/<provider>/<model>`, with a key suffix when one account is used with several keys. */
function deploymentId(group: string, provider: string, config: DeploymentConfig): string {
  const base = `${group}/${provider}/${config.model}`;
  if (!config.api_key) return base;
  let h = 0x811c9dc5;
  for (let i = 0; i < config.api_key.length; i++) h = Math.imul(h ^ config.api_key.charCodeAt(i), 16777619);
  return `${base}#${(h >>> 0).toString(36)}`;
}

function buildDeployment(group: string, config: DeploymentConfig, endpoint: ProviderEndpoint, catalog: Catalog): Deployment {
  const entry = catalog.get(endpoint.type, config.model);
  const capabilities: Capabilities = {
    tools: config.capabilities?.tools ?? entry?.capabilities.tools,
    vision: config.capabilities?.vision ?? entry?.capabilities.vision,
    json: config.capabilities?.json ?? entry?.capabilities.json,
    reasoning: config.capabilities?.reasoning ?? entry?.capabilities.reasoning,
  };
  const maxOutputTokens = config.max_output_tokens ?? entry?.maxOutputTokens ?? undefined;
  const target: Target = { endpoint: config.api_key ? { ...endpoint, apiKey: config.api_key } : endpoint, model: config.model };
  if (maxOutputTokens !== undefined) target.maxOutputTokens = maxOutputTokens;
  const deployment: Deployment = {
    id: deploymentId(group, endpoint.name, config),
    group,
    target,
    adapter: adapterFor(endpoint.type),
    price: priceOf(config, entry),
    weight: config.weight,
    priority: config.priority,
    capabilities,
    quality: entry?.quality ?? null,
  };
  if (config.region) deployment.region = config.region;
  if (config.rpm) deployment.rpm = config.rpm;
  if (config.tpm) deployment.tpm = config.tpm;
  const contextWindow = config.context_window ?? entry?.contextWindow ?? undefined;
  if (contextWindow !== undefined) deployment.contextWindow = contextWindow;
  if (maxOutputTokens !== undefined) deployment.maxOutputTokens = maxOutputTokens;
  if (entry) deployment.catalogId = entry.id;
  if (entry?.deprecated) deployment.deprecated = entry.deprecated;
  return deployment;
}

/** Model groups for providers with `catalog_models: true`: one per catalog model of that provider. */
function catalogGroups(provider: ProviderConfig, taken: Set<string>, catalog: Catalog): ModelGroupConfig[] {
  const catalogProvider = PROVIDER_TYPE_TO_CATALOG[provider.type];
  if (!catalogProvider) return [];
  const groups: ModelGroupConfig[] = [];
  for (const model of catalog.list({ provider: catalogProvider })) {
    if (taken.has(model.providerModelId)) continue;
    taken.add(model.providerModelId);
    groups.push({
      name: model.providerModelId,
      mode: model.mode,
      deployments: [{ provider: provider.name, model: model.providerModelId, weight: 1, priority: 0 }],
    });
  }
  return groups;
}

/** Configuration smells worth a start-up warning: unpriced or retired models. */
export function registryWarnings(registry: Registry): string[] {
  const warnings: string[] = [];
  for (const group of registry.groups) {
    for (const fallback of group.fallbacks) {
      if (!registry.resolve(fallback)) warnings.push(`${group.name}: fallback "${fallback}" is not a model group (nor a catalog model of a provider with catalog_models); it is skipped`);
    }
    for (const d of group.deployments) {
      if (!d.price) warnings.push(`${d.id}: no price in the catalog or config; its cost is reported as 0 (add price: to the deployment)`);
      if (d.deprecated) warnings.push(`${d.id}: the provider retired this model on ${d.deprecated}`);
    }
  }
  return warnings;
}

export function buildRegistry(config: SwitchyardConfig, catalog: Catalog = Catalog.default()): Registry {
  const endpoints = new Map<string, ProviderEndpoint>();
  for (const provider of config.providers) endpoints.set(provider.name, resolveEndpoint(provider));
  const taken = new Set<string>();
  for (const model of config.models) {
    taken.add(model.name);
    for (const alias of model.aliases ?? []) taken.add(alias);
  }
  const groupConfigs: ModelGroupConfig[] = [...config.models];
  for (const provider of config.providers) if (provider.catalog_models) groupConfigs.push(...catalogGroups(provider, taken, catalog));

  const created = Math.floor(Date.now() / 1000);
  const groups = groupConfigs.map((group): ModelGroup => {
    const ids = new Set<string>();
    const deployments = group.deployments.map((d) => {
      const endpoint = endpoints.get(d.provider);
      if (!endpoint) throw new Error(`model ${group.name}: unknown provider ${d.provider}`);
      const deployment = buildDeployment(group.name, d, endpoint, catalog);
      // The same provider and model listed twice (say, two regions) still need distinct health.
      for (let n = 2; ids.has(deployment.id); n++) deployment.id = `${deployment.id.replace(/~\d+$/, '')}~${n}`;
      ids.add(deployment.id);
      return deployment;
    });
    const windows = deployments.map((d) => d.contextWindow ?? Number.POSITIVE_INFINITY);
    return {
      name: group.name,
      mode: group.mode,
      minContextWindow: Math.min(...windows),
      maxContextWindow: Math.max(...windows),
      aliases: group.aliases ?? [],
      fallbacks: group.fallbacks ?? [],
      deployments,
      created,
      ownedBy: deployments[0]?.target.endpoint.name ?? 'switchyard',
      strategy: group.strategy,
      balancer: group.balancer,
      firstTokenTimeoutMs: group.timeouts?.first_token_ms,
      totalTimeoutMs: group.timeouts?.total_ms,
    };
  });
  return new Registry(groups, endpoints);
}
