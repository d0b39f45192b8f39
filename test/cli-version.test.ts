// The CLI's conventions: --version from package.json, exit codes (0 ok, 1 failure, 2 usage),
// shell completion, the lab's example found in the package, and --version loading no server module.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from './helpers/cli.js';
import { requireProgram } from './helpers/programs.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
const TSX = import.meta.resolve('tsx');
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/** The CLI from source, run in `cwd`. */
function runIn(cwd: string, args: string[], nodeArgs: string[] = []) {
  return spawnSync(process.execPath, [...nodeArgs, '--import', TSX, MAIN, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

test("--version prints package.json's version", () => {
  const r = runCli(['--version']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), version);
});

test('exit codes: 2 for a usage error, 1 for a failure', () => {
  const cases: [number, string[], RegExp][] = [
    [2, ['--no-such-option'], /unknown option '--no-such-option'/],
    [2, ['no-such-command'], /unknown command 'no-such-command'/],
    [2, ['edge', '--config', 'examples/two-regions.yaml'], /required option '--region <id>' not specified/],
    [2, ['validate'], /missing required argument 'file'/],
    [2, ['completion', 'tcsh'], /'tcsh' is invalid/],
    [2, ['dns', 'sync', '--steering', 'nearest'], /'nearest' is invalid/],
    [2, ['dial', 'us-east-1', '150', '--token', 't'.repeat(20)], /PCT must be a number from 0 to 100/],
    [1, ['explain', '--config', 'no-such.yaml', '--client', '192.0.2.1'], /no-such\.yaml/],
    [1, ['validate', 'no-such.yaml'], /no-such\.yaml/],
  ];
  for (const [status, args, message] of cases) {
    const r = runCli(args);
    assert.equal(r.status, status, `meridian ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
  const invalid = join(mkdtempSync(join(tmpdir(), 'meridian-exit-')), 'meridian.yaml');
  writeFileSync(invalid, 'zone: {}\n');
  const r = runCli(['explain', '--config', invalid, '--client', '192.0.2.1']);
  assert.equal(
    r.status,
    1,
    `a config file that fails validation is a failure, not a usage error: ${r.stderr}`,
  );
});

test('completion bash: complete -p names it, and meridian ev<TAB> offers evacuate', (t) => {
  const bash = requireProgram(t, 'bash');
  if (!bash) return;
  const script = join(mkdtempSync(join(tmpdir(), 'meridian-completion-')), 'meridian.bash');
  const r = runCli(['completion', 'bash']);
  assert.equal(r.status, 0, r.stderr);
  writeFileSync(script, r.stdout);
  const complete = (...words: string[]) => {
    // What bash does on TAB: COMP_WORDS, COMP_CWORD, then the function `complete -p` names.
    const line = words.map((w) => `'${w}'`).join(' ');
    const out = spawnSync(
      bash,
      [
        '-c',
        `source "$1"; fn=$(complete -p meridian | sed -E 's/.*-F ([^ ]+).*/\\1/'); COMP_WORDS=(${line}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); "$fn"; printf '%s\\n' "\${COMPREPLY[@]}"`,
        'complete',
        script,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(out.status, 0, out.stderr);
    return out.stdout.split('\n').filter(Boolean);
  };
  const registered = spawnSync(bash, ['-c', `source "$1"; complete -p meridian`, 'complete', script], {
    encoding: 'utf8',
  });
  assert.match(registered.stdout, /-F _meridian meridian/);
  assert.deepEqual(complete('meridian', 'ev'), ['evacuate']);
  assert.deepEqual(complete('meridian', 'dns', 'sync', '--ap'), [
    '--api-key',
    '--api-key-file',
    '--apply',
    '--api-url',
  ]);
  assert.deepEqual(complete('meridian', 'rollout', 's'), ['start', 'status']);
  assert.ok(complete('meridian', 'edge', '--').includes('--region'));
});

test('completion zsh and fish name every command', () => {
  const commands = ['lab', 'dns', 'edge', 'control', 'evacuate', 'rollout', 'completion'];
  const zsh = runCli(['completion', 'zsh']);
  assert.equal(zsh.status, 0, zsh.stderr);
  assert.match(zsh.stdout, /^#compdef meridian\n/);
  assert.match(zsh.stdout, /bashcompinit/);
  const fish = runCli(['completion', 'fish']);
  assert.equal(fish.status, 0, fish.stderr);
  for (const c of commands)
    assert.ok(fish.stdout.includes(`-n 'test (__meridian_path) = \\'\\'' -a ${c} `), `fish offers ${c}`);
  assert.ok(
    fish.stdout.includes(`-n 'test (__meridian_path) = \\'dns sync\\'' -l apply `),
    'dns sync --apply',
  );
});

test('lab: without --config it finds its example in the package from any folder; a --config given is cwd-relative', () => {
  const elsewhere = mkdtempSync(join(tmpdir(), 'meridian-cwd-'));
  // --duration 1 is refused after the config is loaded and before anything starts.
  const found = runIn(elsewhere, ['lab', '--duration', '1']);
  assert.equal(found.status, 2, found.stderr);
  assert.match(found.stderr, /--duration must be at least 6 seconds/);
  const relative = runIn(elsewhere, ['lab', '--duration', '1', '--config', 'examples/two-regions.yaml']);
  assert.equal(relative.status, 1, relative.stderr);
  assert.match(relative.stderr, /examples\/two-regions\.yaml/);
  assert.match(runIn(elsewhere, ['lab', '--help']).stdout, /examples\/two-regions\.yaml in the package/);
});

test('--version and --help load no server, client or renderer module', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-loaded-'));
  const hook = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(join(dir, 'resolved'))}, r.url + '\\n');
  return r;
}`;
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
  const loaded = (args: string[]) => {
    writeFileSync(join(dir, 'resolved'), '');
    const r = runIn(ROOT, args, ['--import', `data:text/javascript,${encodeURIComponent(register)}`]);
    assert.equal(r.status, 0, r.stderr);
    const urls = readFileSync(join(dir, 'resolved'), 'utf8').split('\n');
    return new Set(urls.flatMap((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1] ?? []));
  };
  const heavy = ['fastify', 'ioredis', 'nats', '@resvg/resvg-js', 'better-sqlite3', 'undici', 'maxmind'];
  for (const args of [['--version'], ['--help'], ['dns', 'sync', '--help']]) {
    const packages = loaded(args);
    assert.ok(packages.has('commander'), `the recorder sees commander for ${args.join(' ')}`);
    for (const name of [...heavy, 'zod', 'pino', 'yaml', 'prom-client', '@aws-sdk/client-route-53'])
      assert.ok(!packages.has(name), `meridian ${args.join(' ')} loads ${name}`);
  }
  // The recorder does see a module a command loads when it runs.
  assert.ok(loaded(['validate', 'examples/two-regions.yaml']).has('zod'));
});
