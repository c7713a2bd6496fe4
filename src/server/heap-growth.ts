// How far V8 lets the old generation grow past its live size before the next full collection.
// V8's default factor (up to 4× for a fast-allocating program) suits batch jobs; a gateway under load
// allocates fast, promotes the objects of requests still in flight, and so grew its heap to several
// times what it keeps alive (peak RSS ~290 MB against ~200 MB at 25 %, at no measurable CPU cost:
// docs/performance.md). The flag is read at every full GC, so setting it at run time takes effect.
import v8 from 'node:v8';

let applied: number | undefined;

/** Sets V8's heap growing factor to 1 + percent/100; 0 restores V8's own heuristics. Returns the V8 flag set, if any. */
export function applyHeapGrowth(percent: number): string | undefined {
  if (!Number.isInteger(percent) || percent < 0) throw new RangeError(`heap growth must be a whole number of percent ≥ 0, not ${percent}`);
  if (percent === applied) return undefined;
  applied = percent;
  const flag = `--heap-growing-percent=${percent}`;
  v8.setFlagsFromString(flag);
  return flag;
}
