// Live charts (uPlot): share of traffic per region over time, as in Netflix's
// failover figures, with markers for health changes and operation steps; and
// requests/s, error rate and p99 per region.
import uPlot from 'uplot';
import type { Sample } from './model.js';

export interface ChartEvent {
  at: number;
  label: string;
  colour: string;
}

interface Metric {
  title: string;
  unit: string;
  value: (r: Sample['regions'][number], total: number) => number;
  range?: [number, number];
  height: number;
  markers: boolean;
}

const METRICS: Metric[] = [
  {
    title: 'Share of traffic',
    unit: '%',
    value: (r, total) => (total > 0 ? (100 * r.load) / total : 0),
    range: [0, 100],
    height: 240,
    markers: true,
  },
  {
    title: 'Requests/s at the edge',
    unit: 'req/s',
    value: (r) => r.requestsPerS,
    height: 130,
    markers: false,
  },
  { title: 'Error rate', unit: '%', value: (r) => 100 * r.errorRate, height: 130, markers: false },
  { title: 'p99 latency', unit: 'ms', value: (r) => r.p99Ms, height: 130, markers: false },
];

const LABEL_ROWS = 5;

function markerPlugin(events: () => ChartEvent[]): uPlot.Plugin {
  return {
    hooks: {
      draw: (u) => {
        const { ctx, bbox } = u;
        const px = devicePixelRatio;
        const [min, max] = [u.scales.x.min ?? 0, u.scales.x.max ?? 0];
        ctx.save();
        ctx.font = `${Math.round(11 * px)}px system-ui, sans-serif`;
        ctx.lineWidth = px;
        ctx.setLineDash([4 * px, 3 * px]);
        // Each label takes the first row where it overlaps no other; crowded
        // markers (fast steps) keep their line and lose their label.
        const rowEnds: number[] = Array(LABEL_ROWS).fill(Number.NEGATIVE_INFINITY);
        for (const e of events()) {
          const t = e.at / 1000;
          if (t < min || t > max) continue;
          const x = Math.round(u.valToPos(t, 'x', true));
          ctx.strokeStyle = e.colour;
          ctx.fillStyle = e.colour;
          ctx.beginPath();
          ctx.moveTo(x, bbox.top);
          ctx.lineTo(x, bbox.top + bbox.height);
          ctx.stroke();
          const width = ctx.measureText(e.label).width;
          const right = x + 3 * px + width > bbox.left + bbox.width;
          const from = right ? x - 3 * px - width : x + 3 * px;
          const row = rowEnds.findIndex((end) => from > end + 4 * px);
          if (row < 0) continue;
          rowEnds[row] = from + width;
          ctx.textAlign = 'left';
          ctx.fillText(e.label, from, bbox.top + (11 + 13 * row) * px);
        }
        ctx.restore();
      },
    },
  };
}

export class Charts {
  private plots: uPlot[] = [];
  private regions: string[] = [];
  private events: ChartEvent[] = [];
  private readonly resize = new ResizeObserver(() => this.fit());

  constructor(private readonly container: HTMLElement) {
    this.resize.observe(container);
  }

  private width() {
    return Math.max(260, this.container.clientWidth - 4);
  }

  private fit() {
    for (const p of this.plots) p.setSize({ width: this.width(), height: p.height });
  }

  private build(regions: string[], colours: Map<string, string>) {
    for (const p of this.plots) p.destroy();
    this.container.replaceChildren();
    this.regions = regions;
    this.plots = METRICS.map((m) => {
      const figure = document.createElement('figure');
      figure.className = 'chart';
      figure.dataset.metric = m.title;
      const caption = document.createElement('figcaption');
      caption.textContent = `${m.title} (${m.unit})`;
      figure.append(caption);
      this.container.append(figure);
      const opts: uPlot.Options = {
        width: this.width(),
        height: m.height,
        scales: {
          x: { time: true },
          y: m.range ? { range: m.range } : { range: (_u, _lo, hi) => [0, Math.max(hi, 1) * 1.1] },
        },
        axes: [
          {
            stroke: '#333',
            space: 70,
            values: (_u, vals) =>
              vals.map((v) => new Date(v * 1000).toLocaleTimeString([], { hour12: false })),
          },
          { stroke: '#333', size: 50, values: (_u, vals) => vals.map((v) => `${+v.toFixed(2)}`) },
        ],
        series: [
          {},
          ...regions.map((id) => ({
            label: id,
            stroke: colours.get(id),
            width: 2,
            spanGaps: false,
            value: (_u: uPlot, v: number | null) => (v === null ? '–' : `${+v.toFixed(1)} ${m.unit}`),
          })),
        ],
        plugins: m.markers ? [markerPlugin(() => this.events)] : [],
        legend: { live: true },
      };
      return new uPlot(opts, [[], ...regions.map(() => [])], figure);
    });
  }

  update(samples: Sample[], regions: string[], colours: Map<string, string>, events: ChartEvent[]) {
    if (regions.join('|') !== this.regions.join('|')) this.build(regions, colours);
    this.events = events;
    const xs = samples.map((s) => s.at / 1000);
    METRICS.forEach((m, i) => {
      const series = regions.map((id) =>
        samples.map((s) => {
          const total = s.regions.reduce((sum, r) => sum + r.load, 0);
          const r = s.regions.find((x) => x.id === id);
          return r ? m.value(r, total) : null;
        }),
      );
      this.plots[i].setData([xs, ...series] as uPlot.AlignedData);
    });
    this.container.dataset.points = String(xs.length);
  }
}
