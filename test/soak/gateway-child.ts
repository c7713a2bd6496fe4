// The gateway under test, as `switchyard serve` runs it, plus an IPC hook (when spawned with an IPC
// channel and --expose-gc) that reports heap and RSS after a full garbage collection.
import { serve } from '../../src/cli/serve.ts';

const [config, port] = process.argv.slice(2);
await serve({ config, port: Number(port) });
process.on('message', (message) => {
  if (message !== 'memory') return;
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  process.send?.({ heapUsed, rss });
});
