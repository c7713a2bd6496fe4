// Splits a callgrind dump's instructions into V8's garbage collection, V8's compilers and parser, and
// the rest (the program's own work: JavaScript, builtins, runtime, SQLite, libc). A full collection
// every few thousand requests, or a function optimised late, lands in one counted window and not in
// the next: they moved whole counts by ±8 % between runs of the same code, while the rest moved by
// ±2 %. Compare the rest to see what a change did to the work per request.
import { execFileSync } from 'node:child_process';

export interface InstructionSplit {
  total: number;
  gc: number;
  compile: number;
  /** Everything else: the work that a change to the request path changes. */
  rest: number;
}

// Self cost per function, all of them (`--threshold=100`), without source annotation.
const LINE = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/;
const GC = /Marking|MarkCompact|Sweeper|Scaveng|Evacuat|Heap::|RememberedSet|MinorMC|GCTracer|PagedSpace|FreeList|MemoryAllocator|SlotSet/;
const COMPILE = /compiler::|turboshaft|[Mm]aglev|Compiler|Parser|Preparser|Scanner|BytecodeGenerator|interpreter::|Zone::/;

export function splitInstructions(dump: string): InstructionSplit {
  const text = execFileSync('callgrind_annotate', ['--inclusive=no', '--threshold=100', '--auto=no', dump], { maxBuffer: 256 * 1024 * 1024 }).toString();
  const split: InstructionSplit = { total: 0, gc: 0, compile: 0, rest: 0 };
  for (const line of text.split('\n')) {
    const match = LINE.exec(line);
    if (!match || match[2].includes('PROGRAM TOTALS')) continue;
    const count = Number(match[1].replaceAll(',', ''));
    split.total += count;
    if (GC.test(match[2])) split.gc += count;
    else if (COMPILE.test(match[2])) split.compile += count;
    else split.rest += count;
  }
  return split;
}
