// `switchyard replay`: what another routing policy would have done with the traffic recorded in the
// usage store (docs/replay.md).
import { existsSync, readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig, mergeEnvProviders, parseConfig, type SwitchyardConfig } from '../config/index.ts';
import { GatewayError } from '../core/errors.ts';
import { DEFAULT_MAX_RECORDS, UsageSourceError, type UsageSource } from '../replay/records.ts';

export interface ReplayCommandOptions {
  from: string;
  to?: string;
  policy: string;
  config?: string;
  db?: string;
  source?: 'sqlite' | 'postgres';
  org?: string;
  maxRecords?: number;
  json?: boolean;
}

export interface ReplayIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

function readConfig(path: string | undefined, env: NodeJS.ProcessEnv): SwitchyardConfig {
  const file = path ?? env.SWITCHYARD_CONFIG ?? (existsSync('switchyard.yaml') ? 'switchyard.yaml' : undefined);
  return mergeEnvProviders(file ? loadConfig(file, env) : parseConfig('{}', { env }), env);
}

async function openSource(options: ReplayCommandOptions, config: SwitchyardConfig): Promise<UsageSource> {
  if (options.db !== undefined) return (await import('../replay/sqlite-source.ts')).SqliteUsageSource.open(options.db);
  const kind = options.source ?? (config.storage.postgres ? 'postgres' : 'sqlite');
  if (kind === 'postgres') {
    if (!config.storage.postgres) throw new UsageSourceError('--source postgres needs storage.postgres in the config');
    return (await import('../replay/postgres-source.ts')).PostgresUsageSource.open(config.storage.postgres);
  }
  return (await import('../replay/sqlite-source.ts')).SqliteUsageSource.open(config.storage.sqlite);
}

/** Runs one replay and writes the report; returns the exit code (0, or 2 for bad input). */
export async function runReplay(options: ReplayCommandOptions, io: ReplayIo): Promise<number> {
  const env = io.env ?? process.env;
  let source: UsageSource | undefined;
  try {
    const config = readConfig(options.config, env);
    const policy = readFileSync(options.policy, 'utf8');
    source = await openSource(options, config);
    // Loaded here, not at start-up: every CLI command (serve too) registers this one.
    const [{ ReplayRunner }, { formatReport }] = await Promise.all([import('../replay/runner.ts'), import('../replay/table.ts')]);
    const runner = new ReplayRunner({ config: () => config, source, now: io.now });
    const report = await runner.run({ from: options.from, to: options.to, policy, orgId: options.org, maxRecords: options.maxRecords ?? DEFAULT_MAX_RECORDS });
    io.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    return 0;
  } catch (error) {
    const unreadable = error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && (error as NodeJS.ErrnoException).syscall !== undefined;
    if (error instanceof ConfigError || error instanceof GatewayError || error instanceof UsageSourceError || unreadable) {
      io.stderr.write(`switchyard replay: ${error.message}\n`);
      return 2;
    }
    throw error;
  } finally {
    await source?.close();
  }
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description('estimate what another routing policy would have done with recorded traffic (cost, model and tier mix, latency, quality)')
    .requiredOption('--from <time>', 'start: ISO time, epoch ms, or a duration back from now (7d, 24h)')
    .option('--to <time>', 'end (exclusive), same forms; default now')
    .requiredOption('--policy <file>', 'policy YAML: routing: and optionally models:, as in the config file')
    .option('--config <file>', 'gateway configuration (providers, models, storage); default $SWITCHYARD_CONFIG or ./switchyard.yaml')
    .option('--db <file>', 'SQLite usage database (overrides storage.sqlite)')
    .option('--source <kind>', 'usage store: sqlite | postgres (default: postgres when storage.postgres is set)')
    .option('--org <id>', "only this org's traffic")
    .option('--max-records <n>', `read at most this many records, oldest first (default ${DEFAULT_MAX_RECORDS})`, positiveInt)
    .option('--json', 'the full report as JSON')
    .action(async (opts: ReplayCommandOptions) => {
      if (opts.source !== undefined && opts.source !== 'sqlite' && opts.source !== 'postgres') {
        process.stderr.write('switchyard replay: --source must be sqlite or postgres\n');
        process.exitCode = 2;
        return;
      }
      process.exitCode = await runReplay(opts, { stdout: process.stdout, stderr: process.stderr });
    });
}
