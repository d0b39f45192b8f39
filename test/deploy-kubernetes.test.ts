// deploy/kubernetes: each region overlay, rendered as `kubectl apply -k` would
// (plus base/secrets.example.yaml, which operators fill and apply beside it),
// validates against the Kubernetes schemas (the `kubernetes-models` package,
// offline, no cluster), every reference inside the set resolves, the probes and
// scrape annotations hit the documented paths and ports, and the meridian.yaml in
// the ConfigMap is valid Meridian config.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import * as apps from 'kubernetes-models/apps/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as core from 'kubernetes-models/v1';
import ts from 'typescript';
import { parse, parseAllDocuments } from 'yaml';
import { formatProblem, parseConfigText } from '../src/config/index.js';

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML, checked below
type Obj = Record<string, any>;

const ROOT = 'deploy/kubernetes';
const OVERLAYS = readdirSync(join(ROOT, 'overlays')).sort();
/** The fixed admin port of each daemon, as SPEC15 and the README state. */
const ADMIN_PORT = { control: 8300, dns: 8301, edge: 8302, replication: 8303 } as const;
type Daemon = keyof typeof ADMIN_PORT;
const EDGE_DRAIN_SECONDS = 20;

const MODELS: Record<string, Record<string, new (o: Obj) => { validate(): void }>> = {
  v1: core as never,
  'apps/v1': apps as never,
  'policy/v1': policy as never,
};

/**
 * `kubectl apply -k DIR` for the subset of kustomize these files use: resources
 * (files or folders with a kustomization.yaml), namespace, and configMapGenerator
 * (files, literals) without name hashes. Any other key fails, so this stays faithful.
 */
function render(dir: string): Obj[] {
  const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Obj;
  const known = ['apiVersion', 'kind', 'namespace', 'resources', 'generatorOptions', 'configMapGenerator'];
  for (const key of Object.keys(k))
    assert.ok(known.includes(key), `${dir}: kustomize key ${key} not rendered`);
  if (k.configMapGenerator) assert.deepEqual(k.generatorOptions, { disableNameSuffixHash: true });
  const objects: Obj[] = [];
  for (const r of k.resources ?? []) {
    const path = join(dir, r);
    if (statSync(path).isDirectory()) objects.push(...render(path));
    else
      for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
        assert.deepEqual(doc.errors, [], path);
        objects.push(doc.toJS() as Obj);
      }
  }
  for (const g of k.configMapGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const f of g.files ?? []) data[basename(f)] = readFileSync(join(dir, f), 'utf8');
    for (const l of g.literals ?? []) {
      const at = l.indexOf('=');
      data[l.slice(0, at)] = l.slice(at + 1);
    }
    objects.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: g.name }, data });
  }
  for (const o of objects)
    if (k.namespace && o.kind !== 'Namespace') o.metadata = { ...o.metadata, namespace: k.namespace };
  return objects;
}

function validate(o: Obj): void {
  const Model = MODELS[o.apiVersion]?.[o.kind];
  assert.ok(Model, `no schema for ${o.apiVersion} ${o.kind}`);
  new Model(o).validate();
}

/**
 * The schemas' validators accept fields they do not know (as the API server does unless asked
 * for strict field validation), so a misspelt key would pass. The package's type declarations
 * list every field: this walks each object against its kind's interface with TypeScript's checker
 * and returns the paths of fields the interface does not have.
 */
function unknownFieldFinder(): (o: Obj) => string[] {
  const fileOf = (apiVersion: string, kind: string) =>
    join('node_modules/kubernetes-models', apiVersion, `${kind}.d.ts`);
  const kinds = Object.entries(MODELS).flatMap(([apiVersion, models]) =>
    Object.keys(models)
      .filter((kind) => existsSync(fileOf(apiVersion, kind)) && /^[A-Z]/.test(kind))
      .map((kind) => ({ apiVersion, kind })),
  );
  const used = [
    'Namespace',
    'ServiceAccount',
    'Secret',
    'ConfigMap',
    'Service',
    'Deployment',
    'StatefulSet',
    'PodDisruptionBudget',
  ];
  const wanted = kinds.filter((k) => used.includes(k.kind));
  const program = ts.createProgram(
    wanted.map((k) => fileOf(k.apiVersion, k.kind)),
    { noEmit: true, strict: true, skipLibCheck: true, moduleResolution: ts.ModuleResolutionKind.Node10 },
  );
  const checker = program.getTypeChecker();
  const interfaceOf = (apiVersion: string, kind: string): ts.Type => {
    const file = program.getSourceFile(fileOf(apiVersion, kind));
    assert.ok(file, `${kind}.d.ts`);
    const module = checker.getSymbolAtLocation(file);
    const symbol = module && checker.getExportsOfModule(module).find((e) => e.name === `I${kind}`);
    assert.ok(symbol, `I${kind} in ${kind}.d.ts`);
    return checker.getDeclaredTypeOfSymbol(symbol);
  };
  const objectMembers = (t: ts.Type) =>
    (t.isUnion() ? t.types : [t]).filter((m) => (m.flags & ts.TypeFlags.Object) !== 0);
  const walk = (value: unknown, type: ts.Type, path: string): string[] => {
    const members = objectMembers(type);
    if (Array.isArray(value)) {
      const element = members.map((m) => checker.getIndexTypeOfType(m, ts.IndexKind.Number)).find(Boolean);
      return element ? value.flatMap((v, i) => walk(v, element, `${path}[${i}]`)) : [];
    }
    if (value === null || typeof value !== 'object' || members.length === 0) return [];
    // Maps (labels, annotations, data) take any key.
    if (members.some((m) => checker.getIndexTypeOfType(m, ts.IndexKind.String))) return [];
    return Object.entries(value).flatMap(([key, v]) => {
      const prop = members.map((m) => m.getProperty(key)).find(Boolean);
      if (!prop?.valueDeclaration) return [`${path}.${key}`];
      return walk(v, checker.getTypeOfSymbolAtLocation(prop, prop.valueDeclaration), `${path}.${key}`);
    });
  };
  const types = new Map(wanted.map((k) => [`${k.apiVersion} ${k.kind}`, interfaceOf(k.apiVersion, k.kind)]));
  return (o) => {
    const type = types.get(`${o.apiVersion} ${o.kind}`);
    assert.ok(type, `no type for ${o.apiVersion} ${o.kind}`);
    return walk(o, type, `${o.kind}/${o.metadata?.name}`);
  };
}

const unknownFields = unknownFieldFinder();

/** The object of that kind and name; fails the test when the set has none. */
function find(set: Obj[], kind: string, name: string): Obj {
  const found = set.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `${kind}/${name} is in the set`);
  return found;
}
const workloads = (set: Obj[]) => set.filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind));
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);
/** The daemon a container runs: the first argument after the image's ENTRYPOINT ["meridian"]. */
const daemonOf = (c: Obj) => c.args[0] as Daemon;
const argAfter = (c: Obj, flag: string) => c.args[c.args.indexOf(flag) + 1] as string | undefined;

/** A region's objects: the overlay as `apply -k` renders it, plus the Secrets applied beside it. */
function regionSet(region: string): Obj[] {
  const secrets = parseAllDocuments(readFileSync(join(ROOT, 'base/secrets.example.yaml'), 'utf8'));
  return [...render(join(ROOT, 'overlays', region)), ...secrets.map((d) => d.toJS() as Obj)];
}

for (const region of OVERLAYS) {
  const set = regionSet(region);

  test(`${region}: every object validates against the Kubernetes schema`, () => {
    assert.ok(set.length >= 10);
    for (const o of set) validate(o);
  });

  test(`${region}: no object has a field its kind does not know`, () => {
    assert.deepEqual(set.flatMap(unknownFields), []);
  });

  test(`${region}: one workload per daemon, with the region's id`, () => {
    const daemons = workloads(set).flatMap((w) => w.spec.template.spec.containers.map(daemonOf));
    assert.deepEqual(daemons.sort(), ['control', 'dns', 'edge', 'replication']);
    assert.equal(find(set, 'StatefulSet', 'meridian-control')?.kind, 'StatefulSet');
    assert.equal(find(set, 'ConfigMap', 'meridian-region')?.data.region, region);
  });

  test(`${region}: meridian.yaml in the ConfigMap is valid config, and names this region's control`, () => {
    const text = find(set, 'ConfigMap', 'meridian-config').data['meridian.yaml'];
    const { config, problems } = parseConfigText(text, `${region}/meridian.yaml`);
    assert.deepEqual(problems.map(formatProblem), []);
    assert.ok(config?.regions.some((r) => r.id === region));
    assert.match(config?.control.url ?? '', new RegExp(`control\\.${region}\\.`));
  });

  test(`${region}: every reference resolves inside the set`, () => {
    for (const w of workloads(set)) {
      const pod = w.spec.template;
      const where = `${w.kind}/${w.metadata.name}`;
      assert.ok(matches(w.spec.selector.matchLabels, pod.metadata.labels), `${where}: selector`);
      assert.ok(find(set, 'ServiceAccount', pod.spec.serviceAccountName), `${where}: service account`);
      const volumes = new Map<string, Obj>(pod.spec.volumes.map((v: Obj) => [v.name, v]));
      for (const v of volumes.values()) {
        if (v.configMap) {
          const cm = find(set, 'ConfigMap', v.configMap.name);
          assert.ok(cm, `${where}: ConfigMap ${v.configMap.name}`);
          for (const item of v.configMap.items ?? []) assert.ok(item.key in cm.data, `${where}: ${item.key}`);
        }
        if (v.secret)
          assert.ok(find(set, 'Secret', v.secret.secretName), `${where}: Secret ${v.secret.secretName}`);
      }
      for (const c of pod.spec.containers) {
        for (const m of c.volumeMounts) assert.ok(volumes.has(m.name), `${where}: volume ${m.name}`);
        for (const e of c.env ?? []) {
          const cmRef = e.valueFrom?.configMapKeyRef;
          if (cmRef)
            assert.ok(cmRef.key in (find(set, 'ConfigMap', cmRef.name)?.data ?? {}), `${where}: ${e.name}`);
          const sRef = e.valueFrom?.secretKeyRef;
          if (sRef)
            assert.ok(sRef.key in (find(set, 'Secret', sRef.name)?.stringData ?? {}), `${where}: ${e.name}`);
        }
        // $(VAR) in args is expanded by Kubernetes from the container's env.
        for (const a of c.args)
          for (const [, name] of String(a).matchAll(/\$\(([A-Z_]+)\)/g))
            assert.ok(
              c.env.some((e: Obj) => e.name === name),
              `${where}: $(${name}) has no env`,
            );
      }
      if (w.kind === 'StatefulSet') {
        const headless = find(set, 'Service', w.spec.serviceName);
        assert.equal(headless?.spec.clusterIP, 'None', `${where}: headless Service ${w.spec.serviceName}`);
      }
    }
    for (const s of set.filter((o) => o.kind === 'Service')) {
      const pods = workloads(set).filter((w) => matches(s.spec.selector, w.spec.template.metadata.labels));
      assert.equal(pods.length, 1, `Service ${s.metadata.name} selects one workload`);
      const names = pods[0].spec.template.spec.containers.flatMap((c: Obj) =>
        c.ports.map((p: Obj) => `${p.name}/${p.protocol}`),
      );
      for (const p of s.spec.ports)
        assert.ok(names.includes(`${p.targetPort}/${p.protocol}`), `${s.metadata.name}`);
    }
    for (const pdb of set.filter((o) => o.kind === 'PodDisruptionBudget')) {
      const pods = workloads(set).filter((w) =>
        matches(pdb.spec.selector.matchLabels, w.spec.template.metadata.labels),
      );
      assert.equal(pods.length, 1, `PodDisruptionBudget ${pdb.metadata.name}`);
    }
  });

  test(`${region}: the secrets meridian.yaml names by env: reach the containers that read them`, () => {
    const text = find(set, 'ConfigMap', 'meridian-config').data['meridian.yaml'];
    const config = parseConfigText(text, 'meridian.yaml').config!;
    const envOf = (daemon: Daemon) =>
      workloads(set)
        .flatMap((w) => w.spec.template.spec.containers)
        .find((c: Obj) => daemonOf(c) === daemon)
        .env.map((e: Obj) => e.name);
    for (const t of config.control.tokens) if (t.env) assert.ok(envOf('control').includes(t.env), t.name);
    const peersKey = config.edge.peers.key?.replace(/^env:/, '');
    assert.ok(peersKey && envOf('edge').includes(peersKey));
    for (const daemon of ['dns', 'edge'] as const)
      assert.ok(envOf(daemon).includes('MERIDIAN_TOKEN'), daemon);
    // etcd client files are in the mounted Secret.
    const store = config.control.store;
    assert.equal(store.type, 'etcd');
    const control = find(set, 'StatefulSet', 'meridian-control').spec.template.spec;
    const secret = find(set, 'Secret', 'meridian-etcd-client');
    const mount = control.containers[0].volumeMounts.find((m: Obj) => m.name === 'etcd-client');
    if (store.type === 'etcd')
      for (const path of Object.values(store.tls ?? {}))
        assert.ok(path.startsWith(`${mount.mountPath}/`) && basename(path) in secret.stringData, path);
  });

  test(`${region}: probes, scrape annotations, security and drain timing`, () => {
    for (const w of workloads(set)) {
      const pod = w.spec.template;
      const [c] = pod.spec.containers;
      const daemon = daemonOf(c);
      const port = ADMIN_PORT[daemon];
      const where = `${w.metadata.name}`;
      // The admin (control: API) address the daemon binds is the one probed and scraped.
      assert.equal(argAfter(c, daemon === 'control' ? '--listen' : '--admin'), `0.0.0.0:${port}`, where);
      assert.deepEqual(c.readinessProbe.httpGet, { path: '/meridian/ready', port }, where);
      assert.deepEqual(c.livenessProbe.httpGet, { path: '/meridian/health', port }, where);
      assert.deepEqual(pod.metadata.annotations, {
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(port),
        'prometheus.io/path': '/metrics',
      });
      // Every flag passed exists on that command.
      const source = readFileSync(`src/cli/${daemon}.ts`, 'utf8');
      for (const flag of c.args.filter((a: string) => a.startsWith('--')))
        assert.ok(source.includes(`'${flag} <`), `${where}: meridian ${daemon} has no ${flag}`);
      assert.equal(pod.spec.securityContext.runAsNonRoot, true, where);
      assert.ok(pod.spec.securityContext.runAsUser > 0, where);
      assert.equal(pod.spec.automountServiceAccountToken, false, where);
      assert.equal(c.securityContext.readOnlyRootFilesystem, true, where);
      assert.equal(c.securityContext.allowPrivilegeEscalation, false, where);
      assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'] }, where);
      for (const kind of ['requests', 'limits'])
        assert.ok(c.resources[kind].cpu && c.resources[kind].memory, `${where}: ${kind}`);
      // Writable places are volumes; the root filesystem is read-only.
      assert.ok(
        c.volumeMounts.some((m: Obj) => m.mountPath === '/tmp'),
        `${where}: /tmp`,
      );
    }
    const edge = find(set, 'Deployment', 'meridian-edge').spec.template.spec;
    const sleep = Number(edge.containers[0].lifecycle.preStop.exec.command[1]);
    assert.ok(edge.terminationGracePeriodSeconds > sleep + EDGE_DRAIN_SECONDS);
    const dns = find(set, 'Service', 'meridian-dns');
    assert.deepEqual(
      dns.spec.ports.map((p: Obj) => `${p.port}/${p.protocol}`),
      ['53/UDP', '53/TCP'],
    );
  });
}

test('the schema checks catch broken manifests (wrong types, a missing required field, misspelt keys)', () => {
  const set = regionSet(OVERLAYS[0]);
  const edge = structuredClone(find(set, 'Deployment', 'meridian-edge'));
  edge.spec.template.spec.containers[0].ports[0].containerPort = 'http';
  assert.throws(() => validate(edge), /containerPort must be integer/);
  const pdb = structuredClone(find(set, 'PodDisruptionBudget', 'meridian-edge'));
  pdb.spec.minAvailable = { one: 1 };
  assert.throws(() => validate(pdb), /minAvailable/);
  const typo = structuredClone(find(set, 'Deployment', 'meridian-edge'));
  const [container] = typo.spec.template.spec.containers;
  container.readinesProbe = container.readinessProbe;
  delete container.readinessProbe;
  container.securityContext.readOnlyRootFilesytem = true;
  assert.deepEqual(unknownFields(typo), [
    'Deployment/meridian-edge.spec.template.spec.containers[0].securityContext.readOnlyRootFilesytem',
    'Deployment/meridian-edge.spec.template.spec.containers[0].readinesProbe',
  ]);
  const service = structuredClone(find(set, 'Service', 'meridian-dns'));
  delete service.spec.ports[0].port;
  assert.throws(() => validate(service), /port/);
});

test('there is an overlay per region, each with its meridian.yaml', () => {
  assert.ok(OVERLAYS.length >= 1);
  for (const region of OVERLAYS) assert.ok(existsSync(join(ROOT, 'overlays', region, 'meridian.yaml')));
});
