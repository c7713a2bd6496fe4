// `switchyard secrets keygen|encrypt|rotate`: encrypted configuration values. `encrypt` seals a value
// (from stdin by default, so it stays out of shell history) as `enc:v1:…` with SWITCHYARD_SECRET_KEY;
// `rotate` re-seals every envelope of a config file with the current key, opening the old ones with
// SWITCHYARD_SECRET_KEY_PREVIOUS. There is deliberately no `decrypt`.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { encryptSecret, generateSecretKey, keyringFromEnv, rotateConfigText, SECRET_KEY_VAR, SecretError } from '../secrets/index.ts';

export interface SecretsCliIO {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  stdin?: () => Promise<string>;
  env?: Readonly<Record<string, string | undefined>>;
  fail?: (code: number) => void;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function registerSecretsCommands(program: Command, io: SecretsCliIO = {}): void {
  const out = io.stdout ?? ((text: string) => void process.stdout.write(text));
  const err = io.stderr ?? ((text: string) => void process.stderr.write(text));
  const fail = io.fail ?? ((code: number) => void (process.exitCode = code));
  const env = (): Readonly<Record<string, string | undefined>> => io.env ?? process.env;
  const guarded = (action: () => Promise<void> | void) => async (): Promise<void> => {
    try {
      await action();
    } catch (error) {
      if (!(error instanceof SecretError)) throw error;
      err(`error: ${error.message}\n`);
      fail(2);
    }
  };

  const secrets = program.command('secrets').description('encrypted configuration values (AES-256-GCM, key in $SWITCHYARD_SECRET_KEY)');

  secrets
    .command('keygen')
    .description('print a new random key for SWITCHYARD_SECRET_KEY')
    .action(() => out(`${generateSecretKey()}\n`));

  secrets
    .command('encrypt')
    .description('seal a value as enc:v1:… (reads the value from stdin unless --value is given)')
    .option('--value <text>', 'the value to seal (prefer stdin: arguments end up in shell history)')
    .action((opts: { value?: string }) =>
      guarded(async () => {
        const key = keyringFromEnv(env()).current;
        if (!key) throw new SecretError(`${SECRET_KEY_VAR} is not set; generate one with: switchyard secrets keygen`);
        const raw = opts.value ?? (await (io.stdin ?? readStdin)());
        const value = opts.value ?? raw.replace(/\r?\n$/, '');
        if (value.length === 0) throw new SecretError('nothing to encrypt: the value is empty');
        out(`${encryptSecret(value, key)}\n`);
      })(),
    );

  secrets
    .command('rotate')
    .description('re-seal every enc:v1 value of a config file with SWITCHYARD_SECRET_KEY (old ones opened with SWITCHYARD_SECRET_KEY_PREVIOUS)')
    .requiredOption('--config <file>', 'configuration file to rewrite in place')
    .option('--dry-run', 'report what would change without writing')
    .action((opts: { config: string; dryRun?: boolean }) =>
      guarded(() => {
        const text = readFileSync(opts.config, 'utf8');
        const result = rotateConfigText(text, env());
        if (result.rotated > 0 && !opts.dryRun) {
          const temp = `${opts.config}.rotating`;
          writeFileSync(temp, result.text, { mode: 0o600 });
          renameSync(temp, opts.config);
        }
        out(`${opts.dryRun ? 'would re-seal' : 're-sealed'} ${result.rotated} value(s); ${result.current} already on the current key\n`);
      })(),
    );
}
