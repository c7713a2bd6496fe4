// Every provider simulator, by wire format.
import { anthropicSimFormat } from './anthropic/index.ts';
import { bedrockSimFormat } from './bedrock/index.ts';
import { geminiSimFormat } from './gemini/index.ts';
import { openaiSimFormat } from './openai/index.ts';
import { SimServer, type SimFormat, type SimKnobs } from './server.ts';

export const SIM_FORMATS = {
  openai: openaiSimFormat,
  anthropic: anthropicSimFormat,
  gemini: geminiSimFormat,
  bedrock: bedrockSimFormat,
} as const satisfies Record<string, SimFormat>;

export type SimFormatName = keyof typeof SIM_FORMATS;

export function isSimFormat(name: string): name is SimFormatName {
  return Object.hasOwn(SIM_FORMATS, name);
}

export function createSimulator(format: SimFormatName, knobs: Partial<SimKnobs> = {}): SimServer {
  return new SimServer(SIM_FORMATS[format], knobs);
}

export { SimServer, type SimKnobs };
