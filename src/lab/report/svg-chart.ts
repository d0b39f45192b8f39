// Small dependency-free SVG line charts; the same SVG goes inline into the
// HTML report and through resvg into PNG files.

export interface Series {
  name: string;
  color: string;
  /** y per second (per `secondsPerValue`); null leaves a gap. */
  values: (number | null)[];
}

export interface ChartSpec {
  title: string;
  yLabel: string;
  series: Series[];
  events: { t: number; label: string }[];
  /** Upper end of the y axis; default: the largest value. */
  yMax?: number;
  width?: number;
  height?: number;
  /** Seconds between two values (default 1); from 2 minutes on, the x axis counts minutes. */
  secondsPerValue?: number;
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= v)!;
}

export function lineChart(spec: ChartSpec): string {
  const width = spec.width ?? 900;
  const height = spec.height ?? 260;
  const m = { top: 30, right: 150, bottom: 30, left: 55 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const n = Math.max(1, ...spec.series.map((s) => s.values.length));
  const all = spec.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const yMax = spec.yMax ?? niceMax(Math.max(0, ...all));
  const x = (i: number) => m.left + (n <= 1 ? 0 : (i / (n - 1)) * w);
  const y = (v: number) => m.top + h - (Math.min(v, yMax) / yMax) * h;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${m.left}" y="18" font-size="14" font-weight="bold">${esc(spec.title)}</text>`,
  ];
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4;
    const yy = y(v);
    out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${yy}" y2="${yy}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 6}" y="${yy + 4}" text-anchor="end">${+v.toFixed(2)}</text>`);
  }
  const step = Math.max(1, Math.ceil(n / 10));
  const every = spec.secondsPerValue ?? 1;
  const minutes = (n - 1) * every >= 120;
  const when = (i: number) => (minutes ? `${+((i * every) / 60).toFixed(1)}min` : `${i * every}s`);
  for (let i = 0; i < n; i += step)
    out.push(`<text x="${x(i)}" y="${m.top + h + 16}" text-anchor="middle">${when(i)}</text>`);
  out.push(
    `<text transform="translate(14 ${m.top + h / 2}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)}</text>`,
  );
  spec.events.forEach((e, k) => {
    const xx = x(e.t / 1000 / every);
    out.push(
      `<line x1="${xx}" x2="${xx}" y1="${m.top}" y2="${m.top + h}" stroke="#888" stroke-dasharray="4 3"/>`,
      `<text x="${xx + 3}" y="${m.top + 10 + (k % 3) * 11}" fill="#555">${esc(e.label)}</text>`,
    );
  });
  spec.series.forEach((s, k) => {
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)} ${y(v).toFixed(1)} `;
      pen = true;
    });
    out.push(`<path d="${d.trim()}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    const ly = m.top + 10 + k * 16;
    out.push(
      `<line x1="${m.left + w + 12}" x2="${m.left + w + 30}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="3"/>`,
      `<text x="${m.left + w + 34}" y="${ly}">${esc(s.name)}</text>`,
    );
  });
  out.push(
    `<rect x="${m.left}" y="${m.top}" width="${w}" height="${h}" fill="none" stroke="#999"/>`,
    '</svg>',
  );
  return out.join('\n');
}
