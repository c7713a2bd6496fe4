// Micro-benchmark of one routing decision with the full catalog loaded: µs per Router.plan, plus the
// per-request work around it (route options, prompt-size estimate).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { approxPromptTokens } from '../src/catalog/tokens.ts';
import { parseConfig } from '../src/config/index.ts';
import type { ChatRequest } from '../src/core/canonical.ts';
import { HealthRegistry } from '../src/routing/health/index.ts';
import { buildRegistry } from '../src/routing/registry.ts';
import { takeRouteOptions } from '../src/routing/route-options.ts';
import { Router } from '../src/routing/router.ts';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200_000);
const ROOT = new URL('..', import.meta.url).pathname;

const providers = ['openai', 'anthropic', 'gemini', 'deepseek', 'mistral', 'groq', 'together', 'fireworks', 'xai', 'openrouter', 'perplexity'];
const config = parseConfig(
  `
providers:
${providers.map((p) => `  - { name: ${p}, type: ${p}, api_key: k, catalog_models: true }`).join('\n')}
  - { name: azure-east, type: azure, base_url: "https://east.example.com", api_key: k }
  - { name: azure-west, type: azure, base_url: "https://west.example.com", api_key: k }
  - { name: bedrock, type: bedrock, region: us-east-1, aws_access_key_id: a, aws_secret_access_key: b, catalog_models: true }
models:
  - name: gpt-4o-pool
    fallbacks: [claude-sonnet-4-5]
    deployments:
      - { provider: openai, model: gpt-4o }
      - { provider: azure-east, model: gpt-4o }
      - { provider: azure-west, model: gpt-4o }
      - { provider: openrouter, model: openai/gpt-4o }
      - { provider: openai, model: gpt-4o-2024-11-20 }
`,
  { env: {} },
);
const registry = buildRegistry(config);
const health = new HealthRegistry();
const router = new Router(config.routing, health);
const groups = registry.groups.length;
const deployments = registry.groups.reduce((n, g) => n + g.deployments.length, 0);

const req: ChatRequest = {
  model: 'gpt-4o-pool',
  messages: [
    { role: 'system', content: 'You are a helpful assistant. '.repeat(8) },
    { role: 'user', content: 'Summarise the following text in two sentences. '.repeat(12) },
  ],
  tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }],
  max_tokens: 300,
};

function measure(label: string, fn: () => void): { label: string; meanUs: number; p50Us: number; p99Us: number } {
  for (let i = 0; i < 20_000; i++) fn();
  const samples = new Float64Array(ITERATIONS);
  const start = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) {
    const t = process.hrtime.bigint();
    fn();
    samples[i] = Number(process.hrtime.bigint() - t) / 1000;
  }
  const total = Number(process.hrtime.bigint() - start) / 1000;
  samples.sort();
  return { label, meanUs: total / ITERATIONS, p50Us: samples[Math.floor(ITERATIONS * 0.5)], p99Us: samples[Math.floor(ITERATIONS * 0.99)] };
}

const pool = registry.resolve('gpt-4o-pool')!;
const fallback = registry.resolve('claude-sonnet-4-5')!;
const single = registry.resolve('gpt-4o-mini')!;
const now = Date.now();
const results = [
  measure('plan: 1-deployment group', () => router.plan({ req: { ...req, model: 'gpt-4o-mini' }, group: single, fallbacks: [], options: { require: [] }, strategy: 'balanced', promptTokens: 200, now })),
  measure('plan: 5-deployment group + fallback group', () => router.plan({ req, group: pool, fallbacks: [fallback], options: { require: [] }, strategy: 'balanced', promptTokens: 200, now })),
  measure('plan: with constraints (route.*)', () =>
    router.plan({
      req,
      group: pool,
      fallbacks: [fallback],
      options: { require: ['tools'], maxPricePerMtok: 20, minQuality: 0.1, ignoreProviders: new Set(['openrouter']) },
      strategy: 'cost',
      promptTokens: 200,
      now,
    }),
  ),
  measure('route options + prompt estimate', () => {
    takeRouteOptions({ model: 'gpt-4o-pool' }, req, {});
    approxPromptTokens(req);
  }),
];

const lines = [
  `# Routing decision (${new Date().toISOString()})`,
  '',
  `Catalog loaded: ${groups} model groups, ${deployments} deployments. ${ITERATIONS} iterations each.`,
  '',
  '| decision | mean µs | p50 µs | p99 µs |',
  '|---|---|---|---|',
  ...results.map((r) => `| ${r.label} | ${r.meanUs.toFixed(2)} | ${r.p50Us.toFixed(2)} | ${r.p99Us.toFixed(2)} |`),
  '',
];
process.stdout.write(`${lines.join('\n')}\n`);
writeFileSync(join(ROOT, 'bench/results', 'routing-latest.md'), lines.join('\n'));
