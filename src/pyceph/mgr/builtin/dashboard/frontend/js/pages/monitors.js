// monitors.js — `GET /api/monitor`: the monmap and which monitors are in quorum.

import { get } from '../api.js';
import { h, replace } from '../dom.js';
import { datetime } from '../format.js';
import { badge, card, errorBox, loading, table } from '../ui.js';

function sessions(mon) {
  const series = mon.stats?.num_sessions || [];
  return series.length ? String(series[series.length - 1][1]) : '—';
}

/** The leader: upstream's `quorum_leader_name` when given, else the lowest rank in quorum. */
function leader(status, inQuorum) {
  if (status.quorum_leader_name) return status.quorum_leader_name;
  if (status.state === 'leader') return status.name;
  const ranks = [...inQuorum].sort((a, b) => a.rank - b.rank);
  return ranks.length ? ranks[0].name : '—';
}

function monTable(caption, mons, inQuorum) {
  return table({
    caption,
    rowLabel: (m) => `mon.${m.name}`,
    columns: [
      { label: 'Name', render: (m) => h('strong', {}, m.name) },
      { label: 'Rank', class: 'num', render: (m) => String(m.rank) },
      { label: 'Address', render: (m) => m.public_addr || m.addr || '—' },
      { label: 'Quorum', render: () => badge(inQuorum ? 'in quorum' : 'out of quorum', inQuorum ? 'ok' : 'err') },
      { label: 'Open sessions', class: 'num', render: sessions },
    ],
    rows: mons,
    empty: 'None.',
  });
}

export default {
  title: 'Monitors',
  render(main) {
    const body = h('div', {}, loading());
    main.append(body);
    (async () => {
      try {
        const data = await get('/api/monitor');
        const status = data.mon_status || {};
        const monmap = status.monmap || {};
        replace(body,
          card('Status', h('dl', { class: 'kv' },
            h('dt', {}, 'Cluster ID'), h('dd', {}, monmap.fsid || '—'),
            h('dt', {}, 'Monmap epoch'), h('dd', {}, String(monmap.epoch ?? '—')),
            h('dt', {}, 'Leader'), h('dd', {}, leader(status, data.in_quorum || [])),
            h('dt', {}, 'Election epoch'), h('dd', {}, String(status.election_epoch ?? '—')),
            h('dt', {}, 'Modified'), h('dd', {}, datetime(monmap.modified)))),
          card('In quorum', monTable('Monitors in quorum', data.in_quorum || [], true)),
          (data.out_quorum || []).length ? card('Not in quorum', monTable('Monitors out of quorum', data.out_quorum, false)) : null);
      } catch (err) {
        replace(body, errorBox(err));
      }
    })();
    return null;
  },
};
