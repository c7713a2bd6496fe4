// Model access policy: which models, strategies, providers and prices a request may use. Several
// policies apply to one request (org, team, key); the effective policy is their most restrictive
// combination, built from policies compiled once per policy object.
import { compileGlobs, isQualifiedPattern, type GlobMatcher } from './glob.ts';
import type { AccessPolicy, StrategyName } from './types.ts';

/** One level's allow list, with its deployment-qualified patterns (`anthropic/*`) kept apart. */
interface AllowList {
  readonly all: GlobMatcher;
  /** Patterns containing `/`; only these are matched against a deployment's `<provider>/<model>`. */
  readonly qualified: GlobMatcher;
}

/** The compiled, combined policy. Build it with `effectivePolicy`; treat it as opaque. */
export interface EffectivePolicy {
  /** Every list must admit the model (intersection across levels). */
  readonly allow: readonly AllowList[];
  /** Any list may refuse it (union across levels). */
  readonly deny: readonly GlobMatcher[];
  /** Strategies every level allows; undefined = no level restricts them. */
  readonly strategies: ReadonlySet<StrategyName> | undefined;
  /** Every list must admit the deployment's provider name or type. */
  readonly providers: readonly GlobMatcher[];
  /** The lowest price cap of any level; undefined = none. */
  readonly maxPricePerMtok: number | undefined;
}

/** What `checkDeployment` needs to know about one candidate deployment. */
export interface DeploymentFacts {
  /** Provider instance name from the config (`openai-eu`). */
  providerName: string;
  /** Provider type (`openai`, `anthropic`, `bedrock`, …). */
  providerType: string;
  /** The provider's model id (`gpt-4o-mini`); enables deny and `<provider>/<model>` rules. */
  model: string;
  /** The names the client used for the model: the requested name and the group's aliases. */
  requestedNames: readonly string[];
  /** Blended USD per million tokens; undefined = not priced (refused when a price cap applies). */
  blendedPricePerMtok: number | undefined;
}

/** A policy that restricts nothing (no policy at any level). */
export const UNRESTRICTED: EffectivePolicy = Object.freeze({
  allow: [],
  deny: [],
  strategies: undefined,
  providers: [],
  maxPricePerMtok: undefined,
});

interface CompiledPolicy {
  allow: AllowList | undefined;
  deny: GlobMatcher | undefined;
  strategies: ReadonlySet<StrategyName> | undefined;
  providers: GlobMatcher | undefined;
  maxPricePerMtok: number | undefined;
}

// Policies are compiled once per object (by identity): replace a policy object to change it, never
// mutate it in place, or the compiled form goes stale.
const compiled = new WeakMap<AccessPolicy, CompiledPolicy>();

function compile(policy: AccessPolicy): CompiledPolicy {
  let c = compiled.get(policy);
  if (c) return c;
  c = {
    allow: policy.allowModels
      ? { all: compileGlobs(policy.allowModels), qualified: compileGlobs(policy.allowModels.filter(isQualifiedPattern)) }
      : undefined,
    deny: policy.denyModels && policy.denyModels.length > 0 ? compileGlobs(policy.denyModels) : undefined,
    strategies: policy.allowStrategies ? new Set(policy.allowStrategies) : undefined,
    providers: policy.allowProviders ? compileGlobs(policy.allowProviders) : undefined,
    maxPricePerMtok: policy.maxPricePerMtok,
  };
  compiled.set(policy, c);
  return c;
}

/**
 * The most restrictive combination of the policies that apply (org, team, key; `undefined` = that
 * level has none): every level's allow list must admit the model, any level's deny list refuses it,
 * strategies and providers must be allowed by every level that lists them, and the lowest price cap
 * wins. An empty allow list (`allowModels: []`) admits nothing. Cache the result per key when you can;
 * it only combines pre-compiled parts, so building it per request is also cheap. Policy objects are
 * compiled once by identity: replace them on change, do not mutate them.
 */
export function effectivePolicy(policies: ReadonlyArray<AccessPolicy | undefined>): EffectivePolicy {
  const allow: AllowList[] = [];
  const deny: GlobMatcher[] = [];
  const providers: GlobMatcher[] = [];
  let strategies: Set<StrategyName> | undefined;
  let maxPrice: number | undefined;
  for (const policy of policies) {
    if (!policy) continue;
    const c = compile(policy);
    if (c.allow) allow.push(c.allow);
    if (c.deny) deny.push(c.deny);
    if (c.providers) providers.push(c.providers);
    if (c.strategies) strategies = strategies ? new Set([...strategies].filter((s) => c.strategies?.has(s))) : new Set(c.strategies);
    if (c.maxPricePerMtok !== undefined) maxPrice = maxPrice === undefined ? c.maxPricePerMtok : Math.min(maxPrice, c.maxPricePerMtok);
  }
  if (allow.length === 0 && deny.length === 0 && providers.length === 0 && !strategies && maxPrice === undefined) return UNRESTRICTED;
  return { allow, deny, strategies, providers, maxPricePerMtok: maxPrice };
}

/**
 * May the client request this model by name? `modelName` is the name in the request, `aliases` the
 * other names of the same model group. Refused when any name matches a deny list, or when an allow
 * list matches none of the names — unless that list has `<provider>/<model>` patterns, which only a
 * deployment can satisfy: then `checkDeployment` decides. `checkDeployment` true implies this is true.
 */
export function checkModel(policy: EffectivePolicy, modelName: string, aliases: readonly string[] = []): boolean {
  if (policy === UNRESTRICTED) return true;
  const names = fold([modelName, ...aliases]);
  for (const deny of policy.deny) if (anyFolded(deny, names)) return false;
  for (const list of policy.allow) {
    if (anyFolded(list.all, names)) continue;
    if (list.qualified.empty) return false;
  }
  return true;
}

/**
 * May this deployment serve the request? The final word, applied to every candidate:
 * - deny lists refuse the requested names and the deployment's own names (`model`,
 *   `<provider name>/<model>`, `<provider type>/<model>`), so a denied model is not reached by
 *   requesting another group that serves it;
 * - each allow list must match a requested name, or with a qualified pattern the deployment;
 * - each provider list must contain the provider's name or type;
 * - a price cap refuses deployments above it and deployments without a known price.
 */
export function checkDeployment(policy: EffectivePolicy, deployment: DeploymentFacts): boolean {
  if (policy === UNRESTRICTED) return true;
  if (policy.maxPricePerMtok !== undefined) {
    const price = deployment.blendedPricePerMtok;
    if (price === undefined || !(price <= policy.maxPricePerMtok)) return false;
  }
  const providerName = deployment.providerName.toLowerCase();
  const providerType = deployment.providerType.toLowerCase();
  for (const providers of policy.providers) if (!providers.matchesFolded(providerName) && !providers.matchesFolded(providerType)) return false;
  if (policy.deny.length === 0 && policy.allow.length === 0) return true;
  const requested = fold(deployment.requestedNames);
  const model = deployment.model.toLowerCase();
  const byName = `${providerName}/${model}`;
  const byType = `${providerType}/${model}`;
  for (const deny of policy.deny) {
    if (anyFolded(deny, requested) || deny.matchesFolded(model) || deny.matchesFolded(byName) || deny.matchesFolded(byType)) return false;
  }
  for (const list of policy.allow) {
    if (anyFolded(list.all, requested)) continue;
    if (list.qualified.matchesFolded(byName) || list.qualified.matchesFolded(byType)) continue;
    return false;
  }
  return true;
}

function fold(names: readonly string[]): string[] {
  return names.map((n) => n.toLowerCase());
}

function anyFolded(matcher: GlobMatcher, folded: readonly string[]): boolean {
  for (const name of folded) if (matcher.matchesFolded(name)) return true;
  return false;
}

/** May the request use this routing strategy? */
export function checkStrategy(policy: EffectivePolicy, strategy: StrategyName): boolean {
  return policy.strategies === undefined || policy.strategies.has(strategy);
}
