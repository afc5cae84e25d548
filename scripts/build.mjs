// Compiles src/ to dist/ (tsconfig.build.json). `--if-stale` builds only when dist/ is missing or older
// than the sources, so `npm install && npm start` works on a fresh clone and a second start costs a few
// milliseconds. Plain JavaScript: it must run before anything is compiled and without tsx.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const distDir = join(root, 'dist');
// Written after a successful compile: its time is the build's, whatever files tsc chose to rewrite.
const stamp = join(distDir, '.built');
const inputs = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

function newestMtime(path) {
  const stats = statSync(path, { throwIfNoEntry: false });
  if (stats === undefined) return 0;
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function isStale() {
  const built = statSync(stamp, { throwIfNoEntry: false });
  if (built === undefined) return true;
  return inputs.some((input) => newestMtime(join(root, input)) > built.mtimeMs);
}

function typescriptCompiler() {
  // TypeScript 7 (the native compiler) is installed as `typescript-7`: `typescript` is TypeScript 6's
  // API, which typescript-eslint needs. The package's exports do not list bin/tsc: resolve the
  // package, then its declared bin.
  try {
    const manifest = createRequire(import.meta.url).resolve('typescript-7/package.json');
    return join(dirname(manifest), 'bin', 'tsc');
  } catch {
    return undefined;
  }
}

if (process.argv.includes('--if-stale') && !isStale()) process.exit(0);

const tsc = typescriptCompiler();
if (tsc === undefined) {
  // An install without dev dependencies (npm ci --omit=dev) can run dist/ but cannot build it.
  process.stderr.write(
    existsSync(join(distDir, 'main.js'))
      ? 'dist/ is older than src/ and TypeScript is not installed: run `npm run build` where dev dependencies are installed\n'
      : 'dist/ is missing and TypeScript is not installed: run `npm install` (with dev dependencies) and `npm run build`\n',
  );
  process.exit(1);
}
process.stderr.write('building dist/ (npm run build)\n');
// From scratch, so a deleted source leaves no module behind. tsc's report goes to stderr: stdout may
// be captured (`TOKEN=$(npm run -s cli -- token admin)`).
rmSync(distDir, { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: ['ignore', 2, 2] });
if (result.status !== 0) {
  process.stderr.write(`the build failed (tsc exited with ${result.status ?? result.signal})\n`);
  process.exit(1);
}
writeFileSync(stamp, `${new Date().toISOString()}\n`);
