#!/usr/bin/env node
import { compiledMain } from './compiled.js';

// Plain ESM from the transpile cache when it can be had (no loader thread); tsx otherwise.
let entry = await compiledMain();
if (!entry) {
  const { register } = await import('tsx/esm/api');
  register();
  entry = '../src/cli/main.ts';
}
const { main } = await import(entry);
await main(process.argv.slice(2));
