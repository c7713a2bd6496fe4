// Providers switched on by the usual vendor environment variables, so that exporting OPENAI_API_KEY is
// enough to start routing. Each exposes its whole catalog (`catalog_models: true`).
import type { ProviderType } from '../providers/types.ts';
import { DEFAULT_BEDROCK_REGION } from './defaults.ts';
import { ConfigError } from './errors.ts';
import { readEnv, type Env } from './interpolate.ts';
import { implicitProvidersToAdd, type ProviderConfig, type SwitchyardConfig } from './schema.ts';

interface KeyedProviderSpec {
  name: string;
  type: ProviderType;
  /** Checked in order; the first one set is used. */
  keyVars: readonly string[];
  baseUrlVar?: string;
}

const KEYED_PROVIDERS: readonly KeyedProviderSpec[] = [
  { name: 'openai', type: 'openai', keyVars: ['OPENAI_API_KEY'], baseUrlVar: 'OPENAI_BASE_URL' },
  { name: 'anthropic', type: 'anthropic', keyVars: ['ANTHROPIC_API_KEY'], baseUrlVar: 'ANTHROPIC_BASE_URL' },
  { name: 'gemini', type: 'gemini', keyVars: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'] },
  { name: 'deepseek', type: 'deepseek', keyVars: ['DEEPSEEK_API_KEY'] },
  { name: 'mistral', type: 'mistral', keyVars: ['MISTRAL_API_KEY'] },
  { name: 'groq', type: 'groq', keyVars: ['GROQ_API_KEY'] },
  { name: 'together', type: 'together', keyVars: ['TOGETHER_API_KEY'] },
  { name: 'xai', type: 'xai', keyVars: ['XAI_API_KEY'] },
];

const AWS_VARS = {
  accessKeyId: 'AWS_ACCESS_KEY_ID',
  secretAccessKey: 'AWS_SECRET_ACCESS_KEY',
  sessionToken: 'AWS_SESSION_TOKEN',
  regions: ['AWS_REGION', 'AWS_DEFAULT_REGION'],
} as const;

export const ENV_SOURCE = 'environment';

/** Providers the environment enables, in a fixed order. Empty variables count as unset. */
export function providersFromEnv(env: Env = process.env): ProviderConfig[] {
  const providers = KEYED_PROVIDERS.map((spec) => keyedProvider(spec, env));
  providers.push(bedrockProvider(env));
  return providers.filter((p): p is ProviderConfig => p !== undefined);
}

/** Adds the environment's providers unless one of the same name or type is configured (configured wins). */
export function mergeEnvProviders(config: SwitchyardConfig, env: Env = process.env): SwitchyardConfig {
  const added = implicitProvidersToAdd(config.providers, providersFromEnv(env));
  return added.length === 0 ? config : { ...config, providers: [...config.providers, ...added] };
}

export interface EnvProviderHint {
  /** Name of the provider it creates. */
  name: string;
  type: ProviderType;
  /** Human-readable condition, e.g. `GEMINI_API_KEY or GOOGLE_API_KEY`. */
  enabledBy: string;
  /** Further variables read when the provider is enabled. */
  optional: string[];
}

/** The variables that auto-enable providers, for the start-up banner ("how to add real keys"). */
export function describeEnvProviders(): EnvProviderHint[] {
  const keyed = KEYED_PROVIDERS.map((spec) => ({
    name: spec.name,
    type: spec.type,
    enabledBy: spec.keyVars.join(' or '),
    optional: spec.baseUrlVar === undefined ? [] : [spec.baseUrlVar],
  }));
  const bedrock: EnvProviderHint = {
    name: 'bedrock',
    type: 'bedrock',
    enabledBy: `${AWS_VARS.accessKeyId} + ${AWS_VARS.secretAccessKey}`,
    optional: [AWS_VARS.sessionToken, ...AWS_VARS.regions],
  };
  return [...keyed, bedrock];
}

function keyedProvider(spec: KeyedProviderSpec, env: Env): ProviderConfig | undefined {
  const apiKey = firstSet(env, spec.keyVars);
  if (apiKey === undefined) return undefined;
  const baseUrl = spec.baseUrlVar === undefined ? undefined : envBaseUrl(env, spec.baseUrlVar);
  return {
    name: spec.name,
    type: spec.type,
    api_key: apiKey,
    ...(baseUrl === undefined ? {} : { base_url: baseUrl }),
    catalog_models: true,
  };
}

function bedrockProvider(env: Env): ProviderConfig | undefined {
  const accessKeyId = readEnv(env, AWS_VARS.accessKeyId);
  const secretAccessKey = readEnv(env, AWS_VARS.secretAccessKey);
  if (accessKeyId === undefined || secretAccessKey === undefined) return undefined;
  const sessionToken = readEnv(env, AWS_VARS.sessionToken);
  return {
    name: 'bedrock',
    type: 'bedrock',
    region: firstSet(env, AWS_VARS.regions) ?? DEFAULT_BEDROCK_REGION,
    aws_access_key_id: accessKeyId,
    aws_secret_access_key: secretAccessKey,
    ...(sessionToken === undefined ? {} : { aws_session_token: sessionToken }),
    catalog_models: true,
  };
}

function firstSet(env: Env, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = readEnv(env, name);
    if (value !== undefined) return value;
  }
  return undefined;
}

// Validated here because these providers never go through the file schema.
function envBaseUrl(env: Env, name: string): string | undefined {
  const value = readEnv(env, name);
  if (value === undefined) return undefined;
  const protocol = URL.canParse(value) ? new URL(value).protocol : '';
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new ConfigError(ENV_SOURCE, [{ path: name, message: 'must be an http(s) URL' }]);
  }
  return value;
}
