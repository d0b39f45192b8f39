import { spawn } from 'node:child_process';
import { request } from 'undici';
import type { LabControls, OriginFault } from '../chaos/drills/types.js';
import { MeridianError } from '../errors.js';
import type { DeployEvent, Deployment } from './deployment.js';
import type { ControlWatch } from './probes.js';
import { cliCommand } from './processes.js';
import type { Recorder } from './recorder.js';
import { type ReleaseWatch, rolloutEnded } from './release-watch.js';
import { childEnv } from './secrets.js';
import { isLabVersion } from './watchlist/versions.js';

export interface Evacuation {
  region: string;
  startedAt: number;
  endedAt: number | null;
  kind: 'evacuate' | 'restore';
}

/** The drills' handle on a running lab. */
export class Controls implements LabControls {
  readonly regions: string[];
  readonly evacuations: Evacuation[] = [];
  /** Kills by the drill: `whole` when the whole region died (edge, DNS, control, origins), not only its origins. */
  readonly kills: { region: string; t: number; back: number | null; whole?: boolean }[] = [];
  readonly notes: string[] = [];
  /** Every deploy's start and end (by a drill or by control's rollout webhook), ms since start. */
  readonly deploys: (DeployEvent & { t: number })[] = [];

  constructor(
    private readonly deployment: Deployment,
    private readonly recorder: Recorder,
    private readonly watch: ControlWatch | undefined,
    readonly target: string,
    readonly durationS: number,
    private readonly startedAt: number,
    /** Control's outlier and rollout state (absent without control). */
    readonly release?: ReleaseWatch,
  ) {
    this.regions = deployment.config.regions.map((r) => r.id);
    deployment.onDeploy = (e) => {
      this.deploys.push({ ...e, t: this.now() });
      if (e.phase !== 'start')
        this.mark(
          `${e.region} ${e.phase === 'done' ? 'on' : 'failed to deploy'} ${e.version}${e.by === 'webhook' ? ' (rollout)' : ''}`,
        );
    };
  }

  now(): number {
    return performance.now() - this.startedAt;
  }

  phase(name: string): void {
    this.recorder.setPhase(name, this.now());
  }

  mark(label: string): void {
    this.recorder.event(this.now(), label);
  }

  async at(seconds: number): Promise<void> {
    const wait = seconds * 1000 - this.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }

  async killOrigins(region: string): Promise<void> {
    this.kills.push({ region, t: this.now(), back: null, whole: false });
    await this.deployment.killOrigins(region);
  }

  async killRegion(region: string): Promise<void> {
    this.kills.push({ region, t: this.now(), back: null, whole: true });
    await this.deployment.killRegion(region);
  }

  async restartRegion(region: string): Promise<void> {
    const kill = [...this.kills].reverse().find((k) => k.region === region);
    // Back once its edge serves again; its DNS server and control instance follow.
    await this.deployment.restartRegion(region, () => {
      if (kill) kill.back = this.now();
      this.mark(`${region} edge and origins up`);
    });
  }

  async restartOrigins(region: string): Promise<void> {
    await this.deployment.restartOrigins(region);
    const kill = [...this.kills].reverse().find((k) => k.region === region);
    if (kill) kill.back = this.now();
  }

  async setOriginFault(region: string, fault: OriginFault | null): Promise<void> {
    await Promise.all(
      this.deployment.originUrls(region).map(async (url) => {
        const res = await request(`${url}/_lab/fault`, {
          method: fault ? 'POST' : 'DELETE',
          body: fault ? JSON.stringify(fault) : undefined,
        });
        await res.body.text();
      }),
    );
  }

  async cutLinks(mode: 'blackhole' | 'reset' | false, region?: string): Promise<void> {
    await this.deployment.setLinks({ cut: mode }, region ? `region=${encodeURIComponent(region)}` : '');
  }

  async deploy(region: string, version: string): Promise<void> {
    if (!isLabVersion(version)) throw new MeridianError('BAD_ARGUMENT', `lab: no version "${version}"`);
    this.mark(`deploy ${version} to ${region}`);
    await this.deployment.deploy(region, version, 'drill');
  }

  async startRollout(version: string): Promise<void> {
    if (!this.release) {
      this.notes.push(`rollout of ${version} not started: control is not running`);
      return;
    }
    this.mark(`rollout ${version}`);
    try {
      // What the origins run now (v1 on a fresh deployment): what a rollback puts back.
      const now = [...new Set(this.regions.flatMap((r) => this.deployment.versions(r)))];
      const r = await this.release.startRollout(version, now.length === 1 ? now[0] : undefined);
      this.notes.push(`rollout ${r.id} of ${version} started`);
    } catch (e) {
      // Control refused it (or has no rollouts in this build): a finding for the verdict, not a crash.
      this.mark(`rollout ${version} refused`);
      this.notes.push(`rollout of ${version} not started: ${(e as Error).message}`);
    }
  }

  async waitRollout(untilS = this.durationS): Promise<string | null> {
    const release = this.release;
    if (!release?.seen.rollout) return null;
    while (this.now() < untilS * 1000) {
      await release.poll();
      if (rolloutEnded(release.seen.rollout)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const status = release.seen.rollout?.status ?? null;
    this.mark(`rollout ${status ?? 'unknown'}`);
    return status;
  }

  async evacuate(region: string): Promise<void> {
    await this.operate('evacuate', region, (c) => c.dial === 0);
  }

  async restore(region: string): Promise<void> {
    const full = this.fullDial(region);
    await this.operate('restore', region, (c) => c.dial >= full);
  }

  /** The region's dial in the config: where a restore ends. */
  fullDial(region: string): number {
    return this.deployment.config.regions.find((r) => r.id === region)?.dial ?? 100;
  }

  /** Runs `meridian evacuate|restore REGION` against the lab's control instances, then waits for the dial to arrive. */
  private async operate(
    kind: 'evacuate' | 'restore',
    region: string,
    done: (c: { dial: number }) => boolean,
  ) {
    const op: Evacuation = { region, startedAt: this.now(), endedAt: null, kind };
    this.evacuations.push(op);
    this.mark(`${kind} ${region}`);
    const { command, args } = cliCommand();
    const d = this.deployment;
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      // Steps sized to the run: the whole move fits in about a quarter of it.
      const interval = `${Math.max(1, Math.floor((this.durationS * 0.25) / 4))}s`;
      const control = d.controlUrls.join(',');
      const argv = [kind, region, '--control', control, '--step-interval', interval, '--json'];
      const child = spawn(command, [...args, ...argv], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: childEnv({ MERIDIAN_TOKEN: d.tokens.operator }),
      });
      let output = '';
      child.stdout.on('data', (c) => {
        output += c;
      });
      child.stderr.on('data', (c) => {
        output += c;
      });
      child.on('exit', (code) => resolve({ code, output }));
    });
    if (result.code !== 0) {
      // An operation control refused or aborted (a gate failed) is a finding, not a lab crash.
      const lines = result.output.trim().split('\n');
      const why = (lines.find((l) => /"message"|^meridian:/.test(l)) ?? lines.slice(-1)[0] ?? '')
        .trim()
        .slice(0, 300);
      this.mark(`${kind} ${region} failed`);
      this.notes.push(`meridian ${kind} ${region} exited ${result.code}: ${why}`);
      return;
    }
    if (!this.watch) throw new MeridianError('NOT_IMPLEMENTED', `lab: ${kind} needs the control plane`);
    const arrived = await this.watch.waitFor(region, done, 10_000);
    op.endedAt = arrived ? this.now() : null;
    this.mark(arrived ? `${kind} ${region} done` : `${kind} ${region} not done in time`);
  }
}
