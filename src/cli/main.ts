// The `switchyard` command.
import { Command, InvalidArgumentError } from 'commander';
import { registerAdminCommands } from './admin.ts';
import { classify } from './classify.ts';
import { registerReplayCommand } from './replay.ts';
import { serve } from './serve.ts';
import { simulate } from './simulate.ts';

function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

function num(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a non-negative number');
  return n;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function buildProgram(): Command {
  const program = new Command('switchyard').description('Switchyard AI router').showHelpAfterError();

  program
    .command('start')
    .description('quick start: config from $SWITCHYARD_CONFIG or ./switchyard.yaml if present, simulated providers when none are configured')
    .option('--config <file>', 'configuration file')
    .action(async (opts: { config?: string }) => {
      const { existsSync } = await import('node:fs');
      const config = opts.config ?? process.env.SWITCHYARD_CONFIG ?? (existsSync('switchyard.yaml') ? 'switchyard.yaml' : undefined);
      const port = process.env.PORT ? int(process.env.PORT) : undefined;
      await serve({ config, port, host: process.env.HOST, quickstart: true });
    });

  program
    .command('serve')
    .description('run the gateway from a configuration file')
    .requiredOption('--config <file>', 'configuration file (YAML)')
    .option('--port <n>', 'listen port (overrides server.port)', int)
    .option('--host <host>', 'listen address (overrides server.host)')
    .action(async (opts: { config: string; port?: number; host?: string }) => {
      await serve({ config: opts.config, port: opts.port, host: opts.host });
    });

  program
    .command('simulate')
    .description('run a provider simulator speaking one wire format')
    .requiredOption('--format <format>', 'openai | anthropic | gemini | bedrock')
    .option('--port <n>', 'listen port', int, 9001)
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--ttft-ms <ms>', 'delay before the first token', num)
    .option('--tps <n>', 'tokens per second when streaming (0 = instant)', num)
    .option('--output-tokens <n>', 'tokens per answer when max_tokens does not cap it', int)
    .option('--error-rate <status=p>', 'answer with this HTTP status with probability p (repeatable)', collect)
    .option('--rate-limit-rate <p>', 'probability of a 429 with Retry-After', num)
    .option('--retry-after <s>', 'Retry-After seconds on 429s', num)
    .option('--reset-rate <p>', 'probability of resetting the connection before answering', num)
    .option('--abort-rate <p>', 'probability of cutting a response half-way', num)
    .option('--hang-rate <p>', 'probability of never answering', num)
    .option('--cached-tokens <n>', 'prompt tokens reported as served from the provider cache', int)
    .option('--api-key <key>', 'require this key (Bedrock: the secret access key)')
    .option('--seed <n>', 'seed for the fault dice', int)
    .action(async (opts) => {
      await simulate(opts);
    });

  program
    .command('classify')
    .description('score prompts for auto-routing: JSON lines {"id","prompt"|"messages"} on stdin → {"id","score"} on stdout')
    .action(async () => {
      await classify(process.stdin, process.stdout);
    });

  registerAdminCommands(program);
  registerReplayCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv, { from: 'user' });
}
