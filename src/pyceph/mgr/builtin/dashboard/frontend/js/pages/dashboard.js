// dashboard.js — the cluster at a glance, from `GET /api/health/minimal` (upstream's
// dashboard landing page): health and its checks, capacity, daemons, PGs, and live
// client throughput and IOPS charts fed by `client_perf` every POLL_MS.

import { get } from '../api.js';
import { LineChart } from '../chart.js';
import { h, replace } from '../dom.js';
import { bytes, count, percent, rate } from '../format.js';
import { poll } from '../poll.js';
import { card, errorText, healthBadge } from '../ui.js';

/** How often the landing page asks for `/api/health/minimal` (ms). */
export const POLL_MS = 2000;
const READ = '#2f7ed8';
const WRITE = '#e8743b';

/** Upstream sends checks as a list ({type, severity, summary}); `ceph health` as a map. */
export function healthChecks(health) {
  const checks = health?.checks || [];
  if (Array.isArray(checks)) return checks;
  return Object.entries(checks).map(([type, c]) => ({ type, ...c }));
}

function stat(label, value, note) {
  return h('div', { class: 'stat' }, h('span', { class: 'stat-value' }, value), h('span', { class: 'stat-label' }, label),
    note ? h('span', { class: 'stat-note' }, note) : null);
}

function healthBody(data) {
  const checks = healthChecks(data.health);
  return [
    h('div', { class: 'health-status', 'data-health': data.health?.status || '' }, healthBadge(data.health?.status)),
    checks.length
      ? h('ul', { class: 'checks', 'aria-label': 'Health checks' }, checks.map((c) =>
        h('li', { class: `check check-${(c.severity || '').toLowerCase()}` },
          h('strong', {}, c.type), ' ', h('span', {}, c.summary?.message || ''))))
      : h('p', { class: 'muted' }, 'No health checks raised.'),
  ];
}

function capacityBody(df) {
  const total = df?.stats?.total_bytes || 0;
  const used = df?.stats?.total_used_raw_bytes || 0;
  const avail = df?.stats?.total_avail_bytes ?? total - used;
  const ratio = total ? used / total : 0;
  const tone = ratio >= 0.85 ? 'err' : ratio >= 0.7 ? 'warn' : 'ok';
  return [
    h('div', { class: 'capacity-figure' }, h('span', { class: 'stat-value' }, percent(ratio)), h('span', { class: 'stat-label' }, 'raw used')),
    h('div', {
      class: `bar bar-${tone}`, role: 'progressbar', 'aria-label': 'Raw capacity used',
      'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': (ratio * 100).toFixed(1),
    }, h('span', { style: `width:${Math.min(100, ratio * 100).toFixed(1)}%` })),
    h('dl', { class: 'kv' }, h('dt', {}, 'Used'), h('dd', {}, bytes(used)), h('dt', {}, 'Available'), h('dd', {}, bytes(avail)),
      h('dt', {}, 'Total'), h('dd', {}, bytes(total))),
  ];
}

function inventory(data) {
  const osds = data.osd_map?.osds || [];
  const up = osds.filter((o) => o.up).length;
  const inn = osds.filter((o) => o.in).length;
  const mons = data.mon_status?.monmap?.mons?.length || 0;
  const quorum = data.mon_status?.quorum?.length || 0;
  const mgr = data.mgr_map || {};
  const pgStatuses = data.pg_info?.statuses || {};
  const pgTotal = Object.values(pgStatuses).reduce((a, b) => a + b, 0);
  const clean = pgStatuses['active+clean'] || 0;
  return h('div', { class: 'stats' },
    stat('OSDs', `${osds.length}`, `${up} up, ${inn} in`),
    stat('Monitors', `${mons}`, `${quorum} in quorum`),
    stat('Managers', `${(mgr.active_name ? 1 : 0) + (mgr.standbys || []).length}`, mgr.active_name ? `${mgr.active_name} active` : 'none active'),
    stat('Hosts', `${data.hosts ?? 0}`),
    stat('Pools', `${(data.pools || []).length}`),
    stat('PGs', `${pgTotal}`, `${clean} active+clean`),
    stat('Objects', count(data.pg_info?.object_stats?.num_objects ?? 0)),
  );
}

/**
 * The charts live as long as the browser tab, so leaving the landing page and coming
 * back shows the samples taken before; they are fed only while the page is shown.
 */
let charts = null;
function liveCharts() {
  if (!charts) {
    const series = [{ key: 'read', label: 'Read', color: READ }, { key: 'write', label: 'Write', color: WRITE }];
    charts = {
      throughput: new LineChart({ id: 'throughput', title: 'Client throughput', format: rate, series }),
      iops: new LineChart({ id: 'iops', title: 'Client IOPS', format: (v) => `${count(v)} op/s`, series }),
    };
  }
  return charts;
}

export default {
  title: 'Dashboard',
  render(main) {
    const { throughput, iops } = liveCharts();
    const healthSlot = h('div', {}, h('p', { class: 'loading' }, 'Loading…'));
    const capacitySlot = h('div', {});
    const inventorySlot = h('div', {});
    const problem = h('div', { class: 'poll-error', role: 'alert' });
    main.append(
      problem,
      h('div', { class: 'grid grid-top' },
        card('Health', healthSlot),
        card('Capacity', capacitySlot)),
      card('Cluster', inventorySlot),
      h('div', { class: 'grid grid-charts' }, card('Throughput', throughput.element), card('IOPS', iops.element)));
    return poll(async () => {
      try {
        const data = await get('/api/health/minimal');
        replace(problem);
        replace(healthSlot, healthBody(data));
        replace(capacitySlot, capacityBody(data.df));
        replace(inventorySlot, inventory(data));
        const perf = data.client_perf || {};
        throughput.push({ read: perf.read_bytes_sec, write: perf.write_bytes_sec });
        iops.push({ read: perf.read_op_per_sec, write: perf.write_op_per_sec });
      } catch (err) {
        replace(problem, errorText(err));
      }
    }, POLL_MS);
  },
};
