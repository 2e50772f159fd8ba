// pools.js — `GET /api/pool?stats=true`, `POST /api/pool` (upstream's form keys: pool,
// pool_type, pg_num, size, application_metadata) and `DELETE /api/pool/{pool_name}`.

import { del, get, post } from '../api.js';
import { h, replace } from '../dom.js';
import { bytes, count, percent } from '../format.js';
import { button, confirmDialog, errorBox, formDialog, loading, table } from '../ui.js';

/** Defaults of the create form (upstream's form proposes the cluster's defaults). */
const DEFAULT_PG_NUM = 16;
const DEFAULT_SIZE = 3;
const APPLICATIONS = [['rbd', 'rbd'], ['rgw', 'rgw'], ['cephfs', 'cephfs'], ['', 'none']];

/** A pool stat: upstream sends {latest, rate, rates}; plain numbers accepted too. */
export function latest(stat) {
  if (stat && typeof stat === 'object') return stat.latest ?? 0;
  return stat ?? 0;
}

function apps(pool) {
  const meta = pool.application_metadata || [];
  return (Array.isArray(meta) ? meta : Object.keys(meta)).join(', ') || '—';
}

export default {
  title: 'Pools',
  render(main) {
    const list = h('div', {}, loading());
    const refresh = async () => {
      try {
        const pools = await get('/api/pool?stats=true');
        replace(list, table({
          caption: 'Pools',
          rowLabel: (p) => p.pool_name,
          columns: [
            { label: 'Name', render: (p) => h('strong', {}, p.pool_name) },
            { label: 'Type', render: (p) => (p.type === 'erasure' ? 'erasure' : `replicated ×${p.size}`) },
            { label: 'PGs', class: 'num', render: (p) => String(p.pg_num) },
            { label: 'Applications', render: apps },
            { label: 'Used', class: 'num', render: (p) => bytes(latest(p.stats?.bytes_used)) },
            { label: 'Usage', class: 'num', render: (p) => percent(latest(p.stats?.percent_used)) },
            { label: 'Objects', class: 'num', render: (p) => count(latest(p.stats?.objects)) },
            {
              label: 'Actions',
              render: (p) => button('Delete', () => remove(p.pool_name), { kind: 'danger', ariaLabel: `Delete pool ${p.pool_name}` }),
            },
          ],
          rows: pools,
          empty: 'No pools yet.',
        }));
      } catch (err) {
        replace(list, errorBox(err));
      }
    };
    const create = () => formDialog({
      title: 'Create pool',
      submitLabel: 'Create pool',
      fields: [
        { name: 'pool', label: 'Name', required: true, pattern: '[A-Za-z0-9_.\\-]+', title: 'letters, digits, . _ -' },
        { name: 'pool_type', label: 'Type', type: 'select', options: [['replicated', 'replicated']], value: 'replicated' },
        { name: 'pg_num', label: 'Placement groups', type: 'number', min: 1, value: DEFAULT_PG_NUM, required: true },
        { name: 'size', label: 'Replicas', type: 'number', min: 1, max: 10, value: DEFAULT_SIZE, required: true },
        { name: 'application', label: 'Application', type: 'select', options: APPLICATIONS, value: 'rbd' },
      ],
      onSubmit: async (v) => {
        await post('/api/pool', {
          pool: v.pool.trim(),
          pool_type: v.pool_type,
          pg_num: Number(v.pg_num),
          size: Number(v.size),
          application_metadata: v.application ? [v.application] : [],
        });
        await refresh();
      },
    });
    const remove = (name) => confirmDialog({
      title: 'Delete pool',
      message: `Delete pool ${name} and all its data? This cannot be undone.`,
      confirmLabel: 'Delete pool',
      onConfirm: async () => {
        await del(`/api/pool/${encodeURIComponent(name)}`);
        await refresh();
      },
    });
    main.append(h('div', { class: 'toolbar' },
      button('Create pool', create, { kind: 'primary' }),
      button('Refresh', refresh)), list);
    refresh();
    return null;
  },
};
