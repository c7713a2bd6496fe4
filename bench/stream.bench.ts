// Micro-benchmark of stream translation: per provider wire format (OpenAI, Anthropic, Gemini,
// Bedrock), a real 50-chunk stream captured from its simulator is decoded to canonical chunks and
// encoded for each client dialect (OpenAI, Anthropic), as the gateway does when the dialects differ;
// OpenAI → OpenAI also through the byte pass-through observer. Reports µs per stream and per chunk.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { parseConfig } from '../src/config/index.ts';
import type { ChatRequest } from '../src/core/canonical.ts';
import { anthropicDialect } from '../src/dialects/anthropic/index.ts';
import { openaiDialect } from '../src/dialects/openai/index.ts';
import type { IngressDialect } from '../src/dialects/types.ts';
import { buildRegistry, type Deployment } from '../src/routing/registry.ts';
import { createSimulator, type SimFormatName } from '../src/sim/index.ts';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 3000);
const ROOT = new URL('..', import.meta.url).pathname;
const SECRET = 'bench-secret-key';
const FORMATS: SimFormatName[] = ['openai', 'anthropic', 'gemini', 'bedrock'];

const req: ChatRequest = {
  model: 'm',
  stream: true,
  stream_options: { include_usage: true },
  max_tokens: 200,
  messages: [{ role: 'user', content: 'Summarise the following text in two sentences. '.repeat(12) }],
};

async function capture(deployment: Deployment): Promise<Uint8Array[]> {
  const upstream = deployment.adapter.chatRequest(req, deployment.target);
  const res = await request(`${deployment.target.endpoint.origin}${upstream.path}`, { method: upstream.method, headers: upstream.headers, body: upstream.body });
  if (res.statusCode !== 200) throw new Error(`${deployment.id}: ${res.statusCode} ${await res.body.text()}`);
  const chunks: Uint8Array[] = [];
  for await (const chunk of res.body) chunks.push(new Uint8Array(chunk as Buffer));
  return chunks;
}

/** Mean µs of `run` after a warm-up. */
function measure(label: string, chunkCount: number, run: () => void): { label: string; usPerStream: number; usPerChunk: number } {
  for (let i = 0; i < Math.min(500, ITERATIONS); i++) run();
  const start = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) run();
  const us = Number(process.hrtime.bigint() - start) / 1000 / ITERATIONS;
  return { label, usPerStream: Number(us.toFixed(2)), usPerChunk: Number((us / chunkCount).toFixed(3)) };
}

async function main(): Promise<void> {
  const sims = await Promise.all(FORMATS.map(async (format) => {
    const sim = createSimulator(format, { outputTokens: 50, apiKey: SECRET });
    const { url } = await sim.listen(0);
    return { format, sim, url };
  }));
  const urls = Object.fromEntries(sims.map((s) => [s.format, s.url])) as Record<SimFormatName, string>;
  const config = parseConfig(
    `
providers:
  - { name: openai, type: openai, base_url: "${urls.openai}/v1", api_key: ${SECRET} }
  - { name: anthropic, type: anthropic, base_url: "${urls.anthropic}", api_key: ${SECRET} }
  - { name: gemini, type: gemini, base_url: "${urls.gemini}", api_key: ${SECRET} }
  - { name: bedrock, type: bedrock, base_url: "${urls.bedrock}", region: us-east-1, aws_access_key_id: AKIDBENCH, aws_secret_access_key: ${SECRET} }
models:
  - { name: openai, deployments: [ { provider: openai, model: gpt-4o-mini } ] }
  - { name: anthropic, deployments: [ { provider: anthropic, model: claude-sonnet-4-5 } ] }
  - { name: gemini, deployments: [ { provider: gemini, model: gemini-2.5-flash } ] }
  - { name: bedrock, deployments: [ { provider: bedrock, model: anthropic.claude-sonnet-4-5-20250929-v1:0 } ] }
`,
    { env: {} },
  );
  const registry = buildRegistry(config);
  const rows: Array<{ label: string; usPerStream: number; usPerChunk: number; events: number }> = [];
  try {
    for (const format of FORMATS) {
      const deployment = registry.resolve(format)!.deployments[0];
      const captured = await capture(deployment);
      // Events as the client sees them (the gateway's canonical chunk count).
      const events = countChunks(deployment, captured);
      for (const dialect of [openaiDialect, anthropicDialect] as IngressDialect[]) {
        const row = measure(`${format} → canonical → ${dialect.name}`, events, () => {
          const decoder = deployment.adapter.chatStream(deployment.target, req);
          const encoder = dialect.createStreamEncoder(req);
          let out = 0;
          for (const bytes of captured) for (const chunk of decoder.push(bytes)) out += encoder.chunk(chunk).length;
          for (const chunk of decoder.end()) out += encoder.chunk(chunk).length;
          out += encoder.end().length;
          if (out === 0) throw new Error('nothing encoded');
        });
        rows.push({ ...row, events });
      }
      if (format === 'openai' && deployment.adapter.passthrough) {
        const passthrough = deployment.adapter.passthrough;
        for (const wantsUsage of [true, false]) {
          const row = measure(`openai → openai pass-through (client ${wantsUsage ? 'asked for' : 'did not ask for'} usage)`, events, () => {
            const observer = passthrough.streamObserver(deployment.target, wantsUsage);
            for (const bytes of captured) observer.push(bytes);
            observer.end();
            if (!observer.usage) throw new Error('no usage seen');
          });
          rows.push({ ...row, events });
        }
      }
    }
  } finally {
    await Promise.all(sims.map((s) => s.sim.close()));
  }
  const lines = [
    `# Stream translation (${new Date().toISOString()})`,
    '',
    `One 50-token stream per wire format, captured from its simulator, ${ITERATIONS} iterations each, Node ${process.version}.`,
    '',
    '| path | canonical chunks | µs per stream | µs per chunk |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.label} | ${r.events} | ${r.usPerStream} | ${r.usPerChunk} |`),
    '',
  ];
  const markdown = lines.join('\n');
  process.stdout.write(`${markdown}\n`);
  writeFileSync(join(ROOT, 'bench/results', 'stream-latest.md'), markdown);
}

function countChunks(deployment: Deployment, captured: Uint8Array[]): number {
  const decoder = deployment.adapter.chatStream(deployment.target, req);
  let n = 0;
  for (const bytes of captured) n += decoder.push(bytes).length;
  return n + decoder.end().length;
}

await main();
