// users.js — the cluster's cephx users and their caps (`ceph auth ls` over HTTP).
// Pacific's dashboard has no such page; pyceph's API serves them at `/api/user` with
// the keys of upstream's later one (Reef, controllers/ceph_users.py): `GET` ->
// [{entity, caps: {mon: ..}, key}], `POST` {user_entity, capabilities: [{entity, cap}]},
// `PUT /api/user/{entity}` {capabilities}, `DELETE /api/user/{entity}`.

import { del, get, post, put } from '../api.js';
import { h, replace } from '../dom.js';
import { button, confirmDialog, errorBox, formDialog, loading, table } from '../ui.js';

const USERS = '/api/user';
const CAP_DAEMONS = ['mon', 'osd', 'mgr', 'mds'];

function capsOf(u) {
  const caps = u.caps || {};
  const entries = Array.isArray(caps) ? caps.map((c) => [c.entity, c.cap]) : Object.entries(caps);
  if (!entries.length) return '—';
  return h('dl', { class: 'caps' }, entries.map(([daemon, cap]) => [h('dt', {}, daemon), h('dd', {}, h('code', {}, cap))]));
}

/** The form's cap fields as the API's `capabilities` list (empty ones left out). */
export function capabilities(values) {
  return CAP_DAEMONS.filter((d) => (values[d] || '').trim()).map((d) => ({ entity: d, cap: values[d].trim() }));
}

export default {
  title: 'Cephx users',
  render(main) {
    const list = h('div', {}, loading());
    const refresh = async () => {
      try {
        const users = ((await get(USERS)) || []).map((u) => ({ ...u, entity: u.entity ?? u.user_entity }));
        users.sort((a, b) => String(a.entity).localeCompare(String(b.entity)));
        replace(list, table({
          caption: 'Cephx users',
          rowLabel: (u) => u.entity,
          columns: [
            { label: 'Entity', render: (u) => h('strong', {}, u.entity) },
            { label: 'Capabilities', class: 'wrap', render: capsOf },
            {
              label: 'Actions',
              render: (u) => h('div', { class: 'actions' },
                button('Edit caps', () => edit(u), { ariaLabel: `Edit caps of ${u.entity}` }),
                button('Delete', () => remove(u.entity), { kind: 'danger', ariaLabel: `Delete user ${u.entity}` })),
            },
          ],
          rows: users,
          empty: 'No users.',
        }));
      } catch (err) {
        replace(list, errorBox(err));
      }
    };
    const create = () => formDialog({
      title: 'Create user',
      submitLabel: 'Create user',
      fields: [
        { name: 'user_entity', label: 'Entity (e.g. client.app)', required: true, pattern: '[a-z]+\\..+', title: 'type.id, e.g. client.app' },
        ...CAP_DAEMONS.map((d) => ({ name: d, label: `${d} caps`, placeholder: d === 'mon' ? 'allow r' : '' })),
      ],
      onSubmit: async (v) => {
        await post(USERS, { user_entity: v.user_entity.trim(), capabilities: capabilities(v) });
        await refresh();
      },
    });
    const edit = (u) => formDialog({
      title: `Edit caps of ${u.entity}`,
      submitLabel: 'Save caps',
      fields: CAP_DAEMONS.map((d) => ({ name: d, label: `${d} caps`, value: (u.caps || {})[d] || '' })),
      onSubmit: async (v) => {
        await put(`${USERS}/${encodeURIComponent(u.entity)}`, { capabilities: capabilities(v) });
        await refresh();
      },
    });
    const remove = (entity) => confirmDialog({
      title: 'Delete user',
      message: `Delete ${entity} and its key? Clients using it lose access.`,
      confirmLabel: 'Delete user',
      onConfirm: async () => {
        await del(`${USERS}/${encodeURIComponent(entity)}`);
        await refresh();
      },
    });
    main.append(h('div', { class: 'toolbar' }, button('Create user', create, { kind: 'primary' }), button('Refresh', refresh)), list);
    refresh();
    return null;
  },
};
