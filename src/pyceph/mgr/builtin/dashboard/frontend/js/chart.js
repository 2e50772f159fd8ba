// chart.js — a small live line chart in SVG: a fixed window of samples per series,
// redrawn on each push. The figure exposes its data as attributes
// (data-samples, data-<series>-latest, data-<series>-max) for tests and tools.

import { h } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
/** Samples kept per series (with a 2 s poll: two minutes). */
export const CHART_CAPACITY = 60;
/** Drawing area of the viewBox; the SVG scales to its container. */
const WIDTH = 600;
const HEIGHT = 160;

function svg(tag, attrs = {}) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** The smallest 1/2/5 x 10^n at or above `v` (axis top). */
export function niceCeil(v) {
  if (!(v > 0)) return 1;
  const exp = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * exp >= v) return m * exp;
  return 10 * exp;
}

export class LineChart {
  /**
   * id: data-chart name; title: accessible name; series: [{key, label, color}];
   * format: value -> text.
   */
  constructor({ id, title, series, format, capacity = CHART_CAPACITY }) {
    this.series = series;
    this.format = format;
    this.capacity = capacity;
    this.data = Object.fromEntries(series.map((s) => [s.key, []]));
    this.max = Object.fromEntries(series.map((s) => [s.key, 0]));
    this.lines = {};
    this.areas = {};
    this.legendValues = {};
    this.plot = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: 'none', class: 'chart-plot', 'aria-hidden': 'true' });
    for (const frac of [0, 0.5, 1]) {
      const y = HEIGHT - frac * HEIGHT;
      this.plot.append(svg('line', { x1: 0, x2: WIDTH, y1: y, y2: y, class: 'chart-grid' }));
    }
    for (const s of series) {
      this.areas[s.key] = svg('polygon', { fill: s.color, class: 'chart-area' });
      this.lines[s.key] = svg('polyline', { stroke: s.color, class: 'chart-line' });
      this.plot.append(this.areas[s.key], this.lines[s.key]);
    }
    this.axisTop = h('span', { class: 'chart-axis-top' }, format(0));
    const legend = h('ul', { class: 'chart-legend' },
      series.map((s) => {
        this.legendValues[s.key] = h('strong', {}, format(0));
        return h('li', {}, h('span', { class: 'chart-swatch', style: `background:${s.color}` }), `${s.label} `, this.legendValues[s.key]);
      }));
    this.element = h('figure', { class: 'chart', role: 'img', 'aria-label': title, dataset: { chart: id, samples: '0' } },
      h('figcaption', {}, title),
      legend,
      h('div', { class: 'chart-body' }, this.axisTop, this.plot, h('span', { class: 'chart-axis-zero' }, '0')));
    this.render();
  }

  /** Add one sample: {seriesKey: number}. */
  push(values) {
    for (const s of this.series) {
      const list = this.data[s.key];
      const v = Math.max(0, Number(values[s.key]) || 0);
      list.push(v);
      if (list.length > this.capacity) list.shift();
      this.max[s.key] = Math.max(...list);
    }
    this.render();
  }

  render() {
    const top = niceCeil(Math.max(0, ...Object.values(this.max)));
    const step = WIDTH / (this.capacity - 1);
    let samples = 0;
    for (const s of this.series) {
      const list = this.data[s.key];
      samples = Math.max(samples, list.length);
      const offset = this.capacity - list.length;
      const pts = list.map((v, i) => `${((offset + i) * step).toFixed(1)},${(HEIGHT - (v / top) * HEIGHT).toFixed(1)}`);
      this.lines[s.key].setAttribute('points', pts.join(' '));
      const area = pts.length ? [`${(offset * step).toFixed(1)},${HEIGHT}`, ...pts, `${WIDTH},${HEIGHT}`] : [];
      this.areas[s.key].setAttribute('points', area.join(' '));
      const latest = list.length ? list[list.length - 1] : 0;
      this.legendValues[s.key].textContent = this.format(latest);
      this.element.dataset[`${s.key}Latest`] = String(latest);
      this.element.dataset[`${s.key}Max`] = String(this.max[s.key]);
    }
    this.element.dataset.samples = String(samples);
    this.axisTop.textContent = this.format(top);
  }
}
