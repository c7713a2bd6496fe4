// Maps a path in the parsed data back to a line of the YAML source.
import { isMap, isNode, isScalar, isSeq, type Document, type LineCounter } from 'yaml';

export type LineOf = (path: readonly PropertyKey[]) => number | undefined;

/**
 * The line of the node at `path`; for a mapping entry, the line of its key (a block value may start
 * lines later). A path that does not exist in the source (a missing required key, a value produced by
 * a merge key) falls back to its nearest existing ancestor.
 */
export function lineLocator(doc: Document, counter: LineCounter): LineOf {
  return (path) => {
    for (let depth = path.length; depth >= 0; depth--) {
      const offset = offsetOf(doc, path.slice(0, depth));
      if (offset !== undefined) return counter.linePos(offset).line;
    }
    return undefined;
  };
}

function offsetOf(doc: Document, path: readonly PropertyKey[]): number | undefined {
  if (path.length === 0) return isNode(doc.contents) ? doc.contents.range?.[0] : undefined;
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  return childOffset(parent, path[path.length - 1]);
}

function childOffset(parent: unknown, key: PropertyKey): number | undefined {
  if (isMap(parent)) {
    const pair = parent.items.find((item) => (isScalar(item.key) ? String(item.key.value) : item.key) === String(key));
    return pair !== undefined && isNode(pair.key) ? pair.key.range?.[0] : undefined;
  }
  if (isSeq(parent) && typeof key === 'number') {
    const item = parent.items[key];
    return isNode(item) ? item.range?.[0] : undefined;
  }
  return undefined;
}
