// A transpile cache for the CLI: `src/**/*.ts` compiled once per source change into plain ESM under
// node_modules/.cache/switchyard/<key>/, so a long-running process needs no loader hooks. On Node 20
// tsx's `register()` runs its ESM hooks in a loader worker thread (a second V8 isolate, ~35 MB RSS)
// and keeps an inline source map per module; see docs/performance.md ("round 2").
// Still no build step: the first start (or the first after an edit) compiles in under a second with
// esbuild (the version tsx uses); any failure returns undefined and the caller falls back to tsx.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');
const CACHE = join(ROOT, 'node_modules', '.cache', 'switchyard');
/**
 * Pure packages made of hundreds of small modules, bundled into one module each: every module costs
 * V8 memory of its own (kysely: ~980 files, 19 MB RSS imported as is, 3 MB bundled; zod 13 → 7 MB).
 * Only their bare names (no subpaths) are redirected; src imports named exports only.
 */
const VENDORED = ['kysely', 'zod', 'undici'];

function sources(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sources(path, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/**
 * The key covers every source's path, size and mtime, this file, tsconfig.json, the esbuild and Node
 * versions, and the installed bundled packages (an upgrade rebuilds their bundles).
 */
function cacheKey(files, esbuildVersion) {
  const hash = createHash('sha256').update(`${esbuildVersion}\0${process.version}\0`);
  const vendored = VENDORED.map((name) => join(ROOT, 'node_modules', name, 'package.json'));
  for (const file of [fileURLToPath(import.meta.url), join(ROOT, 'tsconfig.json'), ...vendored, ...files]) {
    const st = statSync(file);
    hash.update(`${file}\0${st.size}\0${st.mtimeMs}\0`);
  }
  return hash.digest('hex').slice(0, 24);
}

async function compile(files, outdir, esbuild) {
  const sourceRoot = `${SRC}${sep}`;
  /** Relative `.ts` imports stay separate modules, renamed to `.js`; packages stay external. */
  const keepModules = {
    name: 'switchyard-modules',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        if (VENDORED.includes(args.path)) {
          const from = dirname(relative(SRC, args.importer));
          const spec = relative(from, join('_vendor', `${args.path}.js`)).split(sep).join('/');
          return { path: spec.startsWith('.') ? spec : `./${spec}`, external: true };
        }
        if (!args.path.startsWith('.')) return { path: args.path, external: true };
        const target = resolve(args.resolveDir, args.path);
        if (!target.startsWith(sourceRoot) || !target.endsWith('.ts')) {
          throw new Error(`cannot precompile an import outside src/ or of a non-.ts file: ${args.path} (from ${args.importer})`);
        }
        return { path: args.path.replace(/\.ts$/, '.js'), external: true };
      });
      // Files next to a module (catalog.json, model.json) are found through import.meta.url: keep it
      // pointing at the source file.
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
      });
    },
  };
  await esbuild.build({
    entryPoints: files,
    outbase: SRC,
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: `node${process.versions.node}`,
    tsconfig: join(ROOT, 'tsconfig.json'),
    plugins: [keepModules],
    logLevel: 'silent',
    write: true,
  });
  await esbuild.build({
    entryPoints: Object.fromEntries(VENDORED.map((name) => [name, `vendored:${name}`])),
    outdir: join(outdir, '_vendor'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: `node${process.versions.node}`,
    plugins: [
      {
        name: 'switchyard-vendor',
        setup(build) {
          build.onResolve({ filter: /^vendored:/ }, (args) => ({ path: args.path.slice('vendored:'.length), namespace: 'vendor' }));
          build.onLoad({ filter: /.*/, namespace: 'vendor' }, (args) => ({ contents: vendorEntry(args.path), resolveDir: ROOT, loader: 'js' }));
        },
      },
    ],
    // Whitespace and comments out: V8 keeps each module's source in the heap, and a single non-ASCII
    // character in a comment makes it a two-byte string (4.7 MB for these three, 1.3 MB minified).
    // Names stay, so stack traces still read; the linked source maps serve --enable-source-maps.
    minifyWhitespace: true,
    sourcemap: 'linked',
    // CommonJS packages (undici) call require() for Node built-ins.
    banner: { js: "import { createRequire as __switchyardRequire } from 'node:module'; const require = __switchyardRequire(import.meta.url);" },
    logLevel: 'silent',
    write: true,
  });
}

/** `export *` gives no named exports for a CommonJS package (undici): name them from its exports object. */
function vendorEntry(name) {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'));
  if (pkg.type === 'module') return `export * from '${name}';`;
  const names = Object.keys(createRequire(join(ROOT, 'package.json'))(name)).filter((key) => /^[A-Za-z_$][\w$]*$/.test(key) && key !== 'default');
  return `import m from '${name}';\nexport const { ${names.join(', ')} } = m;\nexport default m;`;
}

/** The URL of the compiled `src/cli/main.js`, or undefined when it cannot be had (tsx is the fallback). */
export async function compiledMain() {
  if (process.env.SWITCHYARD_TSX === '1') return undefined;
  try {
    // The version from its package.json: importing esbuild itself costs a warm start ~14 MB of RSS.
    const { version } = createRequire(join(ROOT, 'package.json'))('esbuild/package.json');
    const files = sources(SRC, []);
    const dir = join(CACHE, cacheKey(files, version));
    const main = join(dir, 'cli', 'main.js');
    try {
      statSync(main);
      return pathToFileURL(main).href;
    } catch {
      // not compiled yet
    }
    mkdirSync(CACHE, { recursive: true });
    // Processes starting together each compile into their own directory; the first rename wins.
    const tmp = join(CACHE, `.tmp-${process.pid}-${Date.now()}`);
    await compile(files, tmp, await import('esbuild'));
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true });
      statSync(main);
    }
    pruneOld(dir);
    return pathToFileURL(main).href;
  } catch (err) {
    if (process.env.SWITCHYARD_DEBUG_COMPILE) process.stderr.write(`precompile failed, using tsx: ${err?.message ?? err}\n`);
    return undefined;
  }
}

/** Caches of older sources are removed after a day (a running process may still import from one). */
function pruneOld(keep) {
  try {
    for (const name of readdirSync(CACHE)) {
      const path = join(CACHE, name);
      if (path === keep) continue;
      if (Date.now() - statSync(path).mtimeMs > 86_400_000) rmSync(path, { recursive: true, force: true });
    }
  } catch {
    // best effort
  }
}

