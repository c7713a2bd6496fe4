// Public surface of the configuration module.
export { ConfigError, formatIssue, formatPath, type ConfigIssue } from './errors.ts';
export { loadConfig, parseConfig, type ParseOptions } from './load.ts';
export { interpolateString, interpolateValue, readEnv, type Env } from './interpolate.ts';
export { describeEnvProviders, mergeEnvProviders, providersFromEnv, type EnvProviderHint } from './env-providers.ts';
export {
  configSchema,
  createConfigSchema,
  PROVIDER_TYPES,
  type CapabilitiesConfig,
  type DeploymentConfig,
  type ModelGroupConfig,
  type PriceConfig,
  type ProviderConfig,
  type ServerConfig,
  type StorageConfig,
  type SwitchyardConfig,
  type SwitchyardConfigInput,
} from './schema.ts';
