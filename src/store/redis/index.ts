// Multi-replica state in Redis: shared counters, the coordination bus, the connection, failover.
export { RedisBus, parseEnvelope, type BusEnvelope, type BusEvent, type BusHandler, type DirectoryEntity, type RedisBusOptions } from './bus.ts';
export { RedisHealth, connectRedis, retryDelay, type ConnectRedisOptions, type RedisUpDown } from './connect.ts';
export { CountersUnavailableError, RedisCounters, type RedisCountersOptions } from './counters.ts';
export { FailoverCounters, type CountersFailureMode, type FailoverCountersOptions, type FailoverLogger } from './failover.ts';
