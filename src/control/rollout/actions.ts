import { spawn } from 'node:child_process';
import { request } from 'undici';
import type { MeridianConfig, RolloutActionConfig } from '../../config/index.js';
import { readSecret } from '../../config/secret.js';
import type { RolloutActionName } from '../../core/operations/rollout.js';

export interface ActionArgs {
  action: RolloutActionName;
  region: string;
  version: string;
  previousVersion: string | null;
  rollout: string;
}

export interface ActionResult {
  ok: boolean;
  /** Exit status or HTTP status, and the end of the output. */
  message: string;
}

const OUTPUT_KEPT = 500;

/**
 * The environment actions run in: control's own, without the secrets control
 * reads from it (its tokens, the etcd password). A deploy script needs PATH and
 * its tool's credentials, never control's.
 */
export function actionEnv(config: MeridianConfig, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const secret = new Set(['MERIDIAN_TOKENS', 'MERIDIAN_TOKEN']);
  for (const t of config.control.tokens) if (t.env) secret.add(t.env);
  const store = config.control.store;
  if (store.type === 'etcd' && store.auth?.passwordEnv) secret.add(store.auth.passwordEnv);
  return Object.fromEntries(Object.entries(env).filter(([k]) => !secret.has(k)));
}

/** Runs one action of the plan. Never throws: a failure is a result. */
export function runAction(
  spec: RolloutActionConfig,
  args: ActionArgs,
  env: NodeJS.ProcessEnv,
): Promise<ActionResult> {
  return spec.command
    ? runCommand(spec.command, spec.timeout, args, env)
    : callWebhook(spec.webhook!, spec.timeout, args, spec.token, env);
}

/** argv without a shell; its own process group, so a timeout kills what it started too. */
function runCommand(
  argv: string[],
  timeoutMs: number,
  args: ActionArgs,
  env: NodeJS.ProcessEnv,
): Promise<ActionResult> {
  return new Promise((resolve) => {
    let output = '';
    let timedOut = false;
    const child = spawn(argv[0], argv.slice(1), {
      env: {
        ...env,
        MERIDIAN_REGION: args.region,
        MERIDIAN_VERSION: args.version,
        MERIDIAN_PREVIOUS_VERSION: args.previousVersion ?? '',
        MERIDIAN_ROLLOUT_ID: args.rollout,
        MERIDIAN_ACTION: args.action,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-OUTPUT_KEPT);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    const tail = () => (output.trim() ? `: ${output.trim()}` : '');
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, message: `cannot run ${argv[0]}: ${e.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) resolve({ ok: false, message: `timed out after ${timeoutMs} ms (killed)${tail()}` });
      else if (code === 0) resolve({ ok: true, message: `exit 0${tail()}` });
      else resolve({ ok: false, message: `${signal ? `killed by ${signal}` : `exit ${code}`}${tail()}` });
    });
  });
}

async function callWebhook(
  url: string,
  timeoutMs: number,
  args: ActionArgs,
  tokenRef: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<ActionResult> {
  try {
    // Read at each call, so a rotated token file is picked up; a missing one fails the action, by name.
    const token = tokenRef ? readSecret(tokenRef, `rollout.actions.${args.action}.token`, { env }) : null;
    const res = await request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(args),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = (await res.body.text()).slice(0, OUTPUT_KEPT).trim();
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    return { ok, message: `HTTP ${res.statusCode}${text ? `: ${text}` : ''}` };
  } catch (e) {
    const err = e as Error;
    const timedOut = err.name === 'TimeoutError' || err.name === 'AbortError' || /timeout/i.test(err.name);
    return {
      ok: false,
      message: timedOut ? `timed out after ${timeoutMs} ms` : `webhook failed: ${err.message}`,
    };
  }
}
