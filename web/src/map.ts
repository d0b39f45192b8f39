// The map: places shaded by the region their users are steered to (stripes
// when a dial splits them), and each region's location, health and share.
import { type GeoProjection, geoAlbersUsa, geoCentroid, geoEqualEarth, geoPath } from 'd3-geo';
import type { Feature, FeatureCollection, Geometry } from 'geojson';
import { feature } from 'topojson-client';
import type { Topology } from 'topojson-specification';
import type { Snapshot } from '../../src/core/model.js';
import { HEALTH_COLOUR, pct } from './model.js';
import { type Split, Steering, stateCode } from './territory.js';

const NS = 'http://www.w3.org/2000/svg';
const W = 960;
const H = 560;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

interface Place {
  /** SVG path, drawn once: the projection never changes after load(). */
  d?: string | null;
  centroid?: [number, number];
  feature: Feature<Geometry, { name?: string }>;
  codes: (string | undefined)[];
  name: string;
}

async function atlas(file: string, object: string): Promise<FeatureCollection<Geometry, { name?: string }>> {
  const res = await fetch(`assets/atlas/${file}`);
  if (!res.ok) throw new Error(`atlas ${file}: HTTP ${res.status}`);
  const topo = (await res.json()) as Topology;
  return feature(topo, topo.objects[object]) as unknown as FeatureCollection<Geometry, { name?: string }>;
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

const overlaps = (a: Box, b: Box) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

export class RegionMap {
  private places: Place[] = [];
  private projection: GeoProjection | null = null;
  private readonly root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img' });

  constructor(private readonly container: HTMLElement) {
    container.append(this.root);
  }

  /** Loads the atlas: the US states, plus the world's countries when a region lies outside the US. */
  async load(snapshot: Snapshot) {
    const states = await atlas('states-10m.json', 'states');
    const us = geoAlbersUsa();
    const outside = [...snapshot.regions.values()].some((r) => us([r.location.lon, r.location.lat]) === null);
    const statePlaces = states.features.map((f) => {
      const code = stateCode(f.id);
      return { feature: f, codes: [code, 'US'], name: f.properties?.name ?? code ?? '?' };
    });
    if (!outside) {
      this.projection = us.fitExtent(
        [
          [10, 10],
          [W - 10, H - 10],
        ],
        states,
      );
      this.places = statePlaces;
      return;
    }
    const countries = await atlas('countries-110m.json', 'countries');
    const others = countries.features.filter(
      (f) => String(f.id) !== '840' && f.properties?.name !== 'Antarctica',
    );
    this.projection = geoEqualEarth().fitExtent(
      [
        [10, 10],
        [W - 10, H - 10],
      ],
      { type: 'FeatureCollection', features: others },
    );
    this.places = [
      ...others.map((f) => ({ feature: f, codes: [], name: f.properties?.name ?? '?' })),
      ...statePlaces,
    ];
  }

  render(snapshot: Snapshot, shares: Map<string, number>, colours: Map<string, string>) {
    const projection = this.projection;
    if (!projection) return;
    const path = geoPath(projection);
    const steering = new Steering(snapshot);
    const defs = svg('defs');
    const patterns = new Map<string, string>();
    const fillFor = (split: Split | null) => {
      if (!split || split.shares.length === 0) return 'var(--shed)';
      if (split.shares.length === 1 && split.shares[0].fraction > 0.999)
        return colours.get(split.shares[0].region) ?? '#999';
      const key = split.shares.map((s) => `${s.region}:${s.fraction.toFixed(2)}`).join('|');
      if (!patterns.has(key)) {
        const id = `mix-${patterns.size}`;
        patterns.set(key, id);
        const p = svg('pattern', {
          id,
          width: 12,
          height: 12,
          patternUnits: 'userSpaceOnUse',
          patternTransform: 'rotate(45)',
        });
        p.append(svg('rect', { width: 12, height: 12, fill: 'var(--shed)' }));
        let x = 0;
        for (const s of split.shares) {
          const w = s.fraction * 12;
          p.append(svg('rect', { x, width: w, height: 12, fill: colours.get(s.region) ?? '#999' }));
          x += w;
        }
        defs.append(p);
      }
      return `url(#${patterns.get(key)})`;
    };

    const places = svg('g', { class: 'places' });
    for (const place of this.places) {
      place.d ??= path(place.feature);
      const d = place.d;
      if (!d) continue;
      place.centroid ??= geoCentroid(place.feature) as [number, number];
      const split = steering.split(place.codes, place.centroid);
      const el = svg('path', { d, fill: fillFor(split), class: 'place' });
      const title = svg('title');
      title.textContent = split
        ? `${place.name}: home ${split.home} (${split.reason}); ${split.shares.map((s) => `${s.region} ${pct(s.fraction)}`).join(', ') || 'shed'}`
        : place.name;
      el.append(title);
      places.append(el);
    }

    const markers = svg('g', { class: 'markers' });
    const placed: Box[] = [];
    for (const r of snapshot.regions.values()) {
      const xy = projection([r.location.lon, r.location.lat]);
      if (!xy) continue;
      const share = shares.get(r.id) ?? 0;
      const g = svg('g', {
        class: 'marker',
        transform: `translate(${xy[0].toFixed(1)},${xy[1].toFixed(1)})`,
        'data-region': r.id,
      });
      g.append(
        svg('circle', {
          r: (9 + 26 * Math.sqrt(share)).toFixed(1),
          fill: colours.get(r.id) ?? '#999',
          stroke: HEALTH_COLOUR[r.health],
          'stroke-width': 5,
        }),
      );
      // Two lines above the circle, else below it when another label is there
      // already (regions close together on a world map); kept inside the map.
      const lines = [r.id, `${pct(share)} · ${r.health}`];
      const radius = 9 + 26 * Math.sqrt(share);
      const anchor = xy[0] < W * 0.2 ? 'start' : xy[0] > W * 0.8 ? 'end' : 'middle';
      const dx = anchor === 'start' ? -20 : anchor === 'end' ? 20 : 0;
      const width = 11.5 * Math.max(...lines.map((l) => l.length));
      const left = xy[0] + dx - (anchor === 'middle' ? width / 2 : anchor === 'end' ? width : 0);
      const above = { x: left, y: xy[1] - radius - 50, w: width, h: 46 };
      const below = { ...above, y: xy[1] + radius + 4 };
      const box =
        placed.some((p) => overlaps(p, above)) && !placed.some((p) => overlaps(p, below)) ? below : above;
      placed.push(box);
      const label = svg('text', { 'text-anchor': anchor, class: 'marker-label' });
      for (const [i, line] of lines.entries()) {
        const span = svg('tspan', { x: dx, y: box.y - xy[1] + 18 + i * 22 });
        span.textContent = line;
        label.append(span);
      }
      g.append(label);
      markers.append(g);
    }
    const summary = [...snapshot.regions.values()]
      .map((r) => `${r.id} ${r.health}, ${pct(shares.get(r.id) ?? 0)} of traffic`)
      .join('; ');
    this.root.setAttribute('aria-label', `Map of regions: ${summary}`);
    this.root.replaceChildren(defs, places, markers);
    this.container.dataset.ready = 'true';
  }
}
