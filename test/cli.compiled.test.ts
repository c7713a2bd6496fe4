// bin/switchyard.js runs the CLI from the transpile cache (bin/compiled.js), with tsx as the fallback.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript without types
import { compiledMain } from '../bin/compiled.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/switchyard.js', import.meta.url));

describe('compiled CLI', () => {
  it('compiles src/ into the cache, with the bundled packages beside it', async () => {
    const main = (await compiledMain()) as string | undefined;
    expect(main).toMatch(/node_modules\/\.cache\/switchyard\/[0-9a-f]{24}\/cli\/main\.js$/);
    const dir = fileURLToPath(new URL('..', main!));
    for (const file of ['_vendor/zod.js', '_vendor/kysely.js', '_vendor/undici.js', 'server/gateway.js']) expect(existsSync(`${dir}${file}`)).toBe(true);
    // A second call finds the same compilation.
    expect(await compiledMain()).toBe(main);
  });

  it('classifies the same from the cache and through tsx', async () => {
    const input = '{"messages":[{"role":"user","content":"Prove that the sum of two even integers is even."}]}\n';
    const classify = async (env: NodeJS.ProcessEnv): Promise<string> => {
      const child = run(process.execPath, [BIN, 'classify'], { env: { ...process.env, ...env } });
      child.child.stdin!.end(input);
      return (await child).stdout;
    };
    const compiled = await classify({});
    expect(compiled).toMatch(/complexity|tier|score/i);
    expect(await classify({ SWITCHYARD_TSX: '1' })).toBe(compiled);
  }, 30_000);
});
