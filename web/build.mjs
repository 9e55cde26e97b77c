// Builds the web UI into web/dist: one bundle (app.js, minified, with a source map), app.css
// (ours after uPlot's) and index.html. Nothing is fetched at run time: no CDN, no web fonts.
// Each file is replaced atomically (written beside, then renamed), so a server serving dist
// (another test run, say) never reads a half-written file.
//   node web/build.mjs [--watch]      (from anywhere; paths are relative to this file)
import { build, context } from 'esbuild';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const watch = process.argv.includes('--watch');

await mkdir(dist, { recursive: true });

async function put(name, contents) {
  const tmp = join(dist, `.${name}.${process.pid}.tmp`);
  await writeFile(tmp, contents);
  await rename(tmp, join(dist, name));
}

const options = {
  entryPoints: [join(here, 'src/main.ts')],
  outfile: join(dist, 'app.js'),
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'esm',
  target: ['es2022'],
  legalComments: 'none',
  logLevel: 'warning',
};

async function copyStatic() {
  const uplotCss = await readFile(join(here, 'node_modules/uplot/dist/uPlot.min.css'), 'utf8');
  const ours = await readFile(join(here, 'src/app.css'), 'utf8');
  await put('app.css', `${uplotCss}\n${ours}`);
  await put('index.html', await readFile(join(here, 'src/index.html')));
}

if (watch) {
  const ctx = await context(options);
  await copyStatic();
  await ctx.watch();
  console.log('watching web/src (index.html and app.css are copied at start only)');
} else {
  const result = await build({ ...options, write: false });
  for (const f of result.outputFiles) await put(basename(f.path), f.contents);
  await copyStatic();
}
