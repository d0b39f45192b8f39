// The lab's secrets stay secret: a short evacuate drill (control, dns, edges
// following control with the agent token, `meridian evacuate|restore` run with
// the operator token) is watched from outside, as another user of the machine
// would: every child's argv (/proc/PID/cmdline) while it runs, every line the
// lab and its children print or log, and every file the lab writes. No token
// may appear anywhere but in the files meant to hold it, which must be 0600 in
// 0700 directories.
// meridian-test: run alone
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';

/** Every process below `root`, from /proc/PID/stat's parent ids. */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(name), ppid);
    } catch {
      // gone meanwhile
    }
  }
  const below = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parent)
      if (below.has(ppid) && !below.has(pid)) {
        below.add(pid);
        grew = true;
      }
  }
  return [...below];
}

const readProc = (pid: number, what: 'cmdline' | 'environ') => {
  try {
    return readFileSync(`/proc/${pid}/${what}`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return null;
  }
};

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** The lab's own variables that hold secrets (inherited ones, such as a CI token, are not the lab's). */
const SECRET_NAME = /^MERIDIAN_\w*(TOKEN|SECRET|PASSWORD|API_KEY|HMAC|KEY)\w*$/;
/** scheme://user:password@host in any text: a credential-bearing URL. */
const CREDENTIAL_URL = /\b[a-z][a-z0-9+.-]*:\/\/[^\s/@:"']+:[^\s/@"']+@/i;
const SECRET_FLAG = /^--(token|api-key|tsig-secret|password|secret|[a-z-]*-(token|key|secret|password))(=|$)/;
/** The subcommand, to name a process in a message without printing its arguments. */
const subcommand = (argv: string[]) => argv[argv.findIndex((a) => /main\.[jt]s$/.test(a)) + 1];
const modeOf = (path: string) => statSync(path).mode & 0o777;

test('meridian lab: no secret in argv, logs or files, secret files 0600 in 0700 dirs', {
  timeout: 300_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-lab-secrets-'));
  // Scale: the shortest evacuate run the lab accepts (8 s: evacuate at 1.6 s in 1 s steps, restore at 4.8 s);
  // the verdict is not judged here, only what leaks. Info-level logs, more than the lab's default.
  const lab = spawn(
    process.execPath,
    [
      ...['--import', 'tsx', 'src/cli/main.ts', 'lab', '--scenario', 'evacuate'],
      ...['--duration', '8', '--rate', '20', '--report', dir],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MERIDIAN_LOG_LEVEL: 'info' } },
  );
  let output = '';
  lab.stdout.on('data', (c) => {
    output += c;
  });
  lab.stderr.on('data', (c) => {
    output += c;
  });
  const argvs = new Map<number, string[]>();
  const secrets = new Set<string>();
  const poll = setInterval(() => {
    for (const pid of descendants(lab.pid!)) {
      if (pid === lab.pid) continue;
      const argv = readProc(pid, 'cmdline');
      if (argv) argvs.set(pid, argv);
      for (const kv of readProc(pid, 'environ') ?? []) {
        const eq = kv.indexOf('=');
        const name = kv.slice(0, eq);
        if (SECRET_NAME.test(name) && !name.endsWith('_FILE') && eq < kv.length - 1)
          secrets.add(kv.slice(eq + 1));
      }
    }
  }, 50);
  const code = await new Promise<number | null>((resolve) => lab.once('exit', resolve));
  clearInterval(poll);
  t.diagnostic(`lab exited ${code}; ${argvs.size} child processes seen`);
  assert.ok(code === 0 || code === 1, `the lab ran its drill (exit ${code}):\n${output.slice(-2000)}`);

  // The secrets: control's tokens in the generated config (if written there), the lab's
  // secret files, and the secret-named variables in the children's environment.
  const files = walk(dir);
  // Every generated config: the outside view, each region's, and each control instance's (etcd) or the one (SQLite).
  const configs = readdirSync(dir).filter((f) => /^lab-(config|control)(-.+)?\.yaml$/.test(f));
  assert.ok(
    configs.includes('lab-config.yaml') && configs.some((f) => f.startsWith('lab-control')),
    configs.join(', '),
  );
  for (const name of configs) {
    const doc = parse(readFileSync(join(dir, name), 'utf8'));
    for (const tk of doc.control?.tokens ?? []) if (tk.token) secrets.add(tk.token);
  }
  const secretFiles = files.filter((f) => modeOf(f) === 0o600 && relative(dir, f).startsWith('secrets/'));
  for (const f of secretFiles) secrets.add(readFileSync(f, 'utf8').trim());
  const endpoints = JSON.parse(readFileSync(join(dir, 'endpoints.json'), 'utf8'));
  if (endpoints.token) secrets.add(endpoints.token);
  t.diagnostic(`${secrets.size} secrets, ${secretFiles.length} secret files, ${files.length} files`);
  assert.ok(secrets.size >= 3, 'the operator, agent and viewer tokens are known to the test');
  // The tokens still work where they are now: control read them from its environment, `meridian
  // evacuate` authenticated with the operator token from its own, and nobody was refused.
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  const events = summary.events.map((e: { label: string }) => e.label);
  assert.ok(events.includes(`evacuate ${summary.target} done`), `evacuated: ${events.join(', ')}`);
  const logs = files.filter((f) => f.endsWith('.log'));
  assert.ok(
    logs.some((f) => /control(-[^/]+)?\.log$/.test(f)),
    'control wrote its log',
  );
  for (const f of logs) assert.doesNotMatch(readFileSync(f, 'utf8'), /"code":"UNAUTHORIZED"/, f);
  assert.ok(argvs.size >= 6, 'links, origins, control, dns, edges and evacuate were seen running');
  const found = (text: string | Buffer) => [...secrets].filter((s) => text.includes(s));

  // 1. argv: readable by every user of the machine.
  for (const [pid, argv] of argvs) {
    assert.deepEqual(
      found(argv.join(' ')),
      [],
      `a secret in the argv of ${pid} (meridian ${subcommand(argv)})`,
    );
    const flag = argv.find((a) => SECRET_FLAG.test(a));
    assert.equal(flag, undefined, `${flag} in the argv of ${pid} (meridian ${subcommand(argv)})`);
  }
  assert.ok(
    [...argvs.values()].some((a) => a.includes('evacuate')),
    'meridian evacuate ran as a child (the operator token was used)',
  );

  // 2. What the lab and its children print (their logs are files under DIR/logs, walked below).
  assert.deepEqual(found(output), [], 'a secret on the lab stdout/stderr');
  assert.doesNotMatch(output, CREDENTIAL_URL);

  // 3. Every file but the secret files: no secret, no credential-bearing URL.
  for (const f of files) {
    if (secretFiles.includes(f)) continue;
    const bytes = readFileSync(f);
    assert.deepEqual(found(bytes), [], `a secret in ${relative(dir, f)} (mode ${modeOf(f).toString(8)})`);
    if (!/\.(png|db|db-wal|db-shm)$/.test(f))
      assert.doesNotMatch(bytes.toString('utf8'), CREDENTIAL_URL, relative(dir, f));
  }

  // 4. Secret files are 0600 and live in 0700 directories; so does control's and the edges' state.
  assert.ok(secretFiles.length >= 1, 'the operator token for other programs is in a secret file');
  for (const f of files.filter((f) => found(readFileSync(f)).length > 0))
    assert.equal(modeOf(f), 0o600, `${relative(dir, f)} holds a secret: mode 0600`);
  for (const d of ['secrets', 'state'])
    assert.equal(modeOf(join(dir, d)), 0o700, `${d}/ is 0700 (it is ${modeOf(join(dir, d)).toString(8)})`);
  assert.equal(readFileSync(endpoints.tokenFile, 'utf8').trim().length > 16, true, 'endpoints.tokenFile');
});
