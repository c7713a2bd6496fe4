// Live deployment health: signals for scoring, cool-downs and circuit breakers.
export { CircuitBreaker } from './circuit.ts';
export type { CircuitState, CircuitTransition } from './circuit.ts';
export { DEFAULT_HEALTH_CONFIG, resolveHealthConfig } from './config.ts';
export type { CircuitBreakerConfig, HealthConfig } from './config.ts';
export { DeploymentHealth, FAILURE_IMPACT } from './deployment-health.ts';
export type { FailureImpact, HealthChangeListener, HealthEvent, HealthSnapshot, SuccessSample } from './deployment-health.ts';
export { Ewma, PeakEwma } from './ewma.ts';
export { RecentQuantiles } from './quantile.ts';
export { HealthRegistry } from './registry.ts';
export { SlidingCounter } from './window.ts';
