// `switchyard simulate`: one provider simulator as a standalone server, with fault knobs.
import { createSimulator, isSimFormat, SIM_FORMATS } from '../sim/index.ts';
import { SIM_FAULTS, type SimFault, type SimKnobs } from '../sim/server.ts';

export interface SimulateOptions {
  format: string;
  port: number;
  host: string;
  ttftMs?: number;
  tps?: number;
  outputTokens?: number;
  errorRate?: string[];
  rateLimitRate?: number;
  retryAfter?: number;
  resetRate?: number;
  abortRate?: number;
  hangRate?: number;
  cachedTokens?: number;
  apiKey?: string;
  seed?: number;
  fault?: string;
  faultRate?: number;
  bytesPerSecond?: number;
}

/** `500=0.1` → `{ 500: 0.1 }`. */
export function parseErrorRates(values: readonly string[] = []): Record<number, number> {
  const rates: Record<number, number> = {};
  for (const value of values) {
    const [status, rate] = value.split('=');
    const code = Number(status);
    const p = Number(rate);
    if (!Number.isInteger(code) || code < 400 || code > 599 || !(p >= 0 && p <= 1)) {
      throw new Error(`--error-rate expects STATUS=PROBABILITY (e.g. 500=0.1), got "${value}"`);
    }
    rates[code] = p;
  }
  return rates;
}

export function knobsFrom(options: SimulateOptions): Partial<SimKnobs> {
  const knobs: Partial<SimKnobs> = { errorRates: parseErrorRates(options.errorRate) };
  if (options.ttftMs !== undefined) knobs.ttftMs = options.ttftMs;
  if (options.tps !== undefined) knobs.tokensPerSecond = options.tps;
  if (options.outputTokens !== undefined) knobs.outputTokens = options.outputTokens;
  if (options.rateLimitRate !== undefined) knobs.rateLimitRate = options.rateLimitRate;
  if (options.retryAfter !== undefined) knobs.retryAfterSeconds = options.retryAfter;
  if (options.resetRate !== undefined) knobs.resetRate = options.resetRate;
  if (options.abortRate !== undefined) knobs.midStreamAbortRate = options.abortRate;
  if (options.hangRate !== undefined) knobs.hangRate = options.hangRate;
  if (options.cachedTokens !== undefined) knobs.cachedTokens = options.cachedTokens;
  if (options.apiKey !== undefined) knobs.apiKey = options.apiKey;
  if (options.seed !== undefined) knobs.seed = options.seed;
  if (options.fault !== undefined) {
    if (!(SIM_FAULTS as readonly string[]).includes(options.fault)) throw new Error(`--fault expects one of ${SIM_FAULTS.join(', ')}, got "${options.fault}"`);
    knobs.fault = options.fault as SimFault;
  }
  if (options.faultRate !== undefined) knobs.faultRate = options.faultRate;
  if (options.bytesPerSecond !== undefined) knobs.bytesPerSecond = options.bytesPerSecond;
  return knobs;
}

export async function simulate(options: SimulateOptions): Promise<void> {
  if (!isSimFormat(options.format)) {
    throw new Error(`unknown format "${options.format}"; choose one of ${Object.keys(SIM_FORMATS).join(', ')}`);
  }
  const sim = createSimulator(options.format, knobsFrom(options));
  const { url } = await sim.listen(options.port, options.host);
  process.stdout.write(`Switchyard ${options.format} simulator listening on ${url}\n`);
  const stop = (): void => {
    void sim.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
