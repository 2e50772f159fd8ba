// rbd.js — RBD images, their snapshots and the trash, on upstream's Pacific API
// (controllers/rbd.py): `GET /api/block/image` (one entry per pool: {pool_name,
// value: [images]}), `POST /api/block/image`, `PUT|DELETE /api/block/image/{spec}`,
// `POST .../{spec}/move_trash`, `POST .../{spec}/snap`, `PUT|DELETE .../snap/{name}`,
// `POST .../snap/{name}/clone`, `GET /api/block/image/trash`,
// `POST /api/block/image/trash/{pool/id}/restore`, `DELETE /api/block/image/trash/{pool/id}`.
// The spec is `pool/name` URL-encoded (`pool%2Fname`), as upstream's frontend sends it.

import { del, get, imageSpec, post, put } from '../api.js';
import { h, replace } from '../dom.js';
import { bytes, datetime, SIZE_UNITS } from '../format.js';
import { badge, button, card, confirmDialog, errorBox, formDialog, loading, runAction, table } from '../ui.js';

const BASE = '/api/block/image';
const SIZE_UNIT_OPTIONS = Object.keys(SIZE_UNITS).map((u) => [u, u]);
const DEFAULT_SIZE = 1;
const DEFAULT_UNIT = 'GiB';

/** Upstream lists per pool ({pool_name, value: [...]}); a flat list is accepted too. */
export function flattenPools(answer) {
  return (answer || []).flatMap((entry) => (Array.isArray(entry?.value)
    ? entry.value.map((x) => ({ pool_name: entry.pool_name, ...x }))
    : [entry]));
}

function sizeFields(valueBytes) {
  let unit = DEFAULT_UNIT;
  let value = DEFAULT_SIZE;
  if (valueBytes) {
    unit = valueBytes >= SIZE_UNITS.GiB && valueBytes % SIZE_UNITS.GiB === 0 ? 'GiB' : 'MiB';
    value = valueBytes / SIZE_UNITS[unit];
  }
  return [
    { name: 'size', label: 'Size', type: 'number', min: 1, step: 'any', value, required: true },
    { name: 'unit', label: 'Unit', type: 'select', options: SIZE_UNIT_OPTIONS, value: unit },
  ];
}

function sizeBytes(v) {
  return Math.round(Number(v.size) * SIZE_UNITS[v.unit]);
}

function spec(img) {
  return imageSpec(img.pool_name, img.name, img.namespace || '');
}

function imageName(img) {
  return img.namespace ? `${img.pool_name}/${img.namespace}/${img.name}` : `${img.pool_name}/${img.name}`;
}

export default {
  title: 'Block images',
  render(main) {
    const imagesSlot = h('div', {}, loading());
    const snapsSlot = h('div', {}, loading());
    const trashSlot = h('div', {}, loading());
    let pools = [];
    let defaultFeatures = null;

    const refresh = async () => {
      await refreshImages();
      await refreshTrash();
    };

    const refreshImages = async () => {
      try {
        // the image list is API 2.0 upstream; every page at once (limit -1)
        const images = flattenPools(await get(`${BASE}?limit=-1`, '2.0'));
        images.sort((a, b) => imageName(a).localeCompare(imageName(b)));
        replace(imagesSlot, table({
          caption: 'Images',
          rowLabel: imageName,
          columns: [
            { label: 'Name', render: (i) => h('strong', {}, i.name) },
            { label: 'Pool', render: (i) => (i.namespace ? `${i.pool_name}/${i.namespace}` : i.pool_name) },
            { label: 'Size', class: 'num', render: (i) => bytes(i.size) },
            { label: 'Objects', class: 'num', render: (i) => `${i.num_objs ?? '—'} × ${bytes(i.obj_size)}` },
            { label: 'Parent', class: 'wrap-narrow', render: (i) => (i.parent ? `${i.parent.pool_name}/${i.parent.image_name}@${i.parent.snap_name}` : '—') },
            { label: 'Snapshots', class: 'num', render: (i) => String((i.snapshots || []).length) },
            {
              label: 'Actions',
              render: (i) => h('div', { class: 'actions' },
                button('Resize', () => resize(i), { ariaLabel: `Resize ${imageName(i)}` }),
                button('Snapshot', () => snapshot(i), { ariaLabel: `Create snapshot of ${imageName(i)}` }),
                button('Trash', () => trash(i), { ariaLabel: `Move ${imageName(i)} to trash` }),
                button('Delete', () => remove(i), { kind: 'danger', ariaLabel: `Delete ${imageName(i)}` })),
            },
          ],
          rows: images,
          empty: 'No images yet.',
        }));
        const snaps = images.flatMap((i) => (i.snapshots || []).map((s) => ({ image: i, ...s })));
        replace(snapsSlot, table({
          caption: 'Snapshots',
          rowLabel: (s) => `${imageName(s.image)}@${s.name}`,
          columns: [
            { label: 'Snapshot', render: (s) => h('strong', {}, `${imageName(s.image)}@${s.name}`) },
            { label: 'Size', class: 'num', render: (s) => bytes(s.size) },
            { label: 'Protected', render: (s) => (s.is_protected ? badge('protected', 'ok') : badge('no', 'off')) },
            { label: 'Created', render: (s) => datetime(s.timestamp) },
            {
              label: 'Actions',
              render: (s) => {
                const label = `${imageName(s.image)}@${s.name}`;
                return h('div', { class: 'actions' },
                  button('Clone', () => clone(s.image, s.name), { ariaLabel: `Clone ${label}` }),
                  button(s.is_protected ? 'Unprotect' : 'Protect', () => protect(s.image, s.name, !s.is_protected), { ariaLabel: `${s.is_protected ? 'Unprotect' : 'Protect'} ${label}` }),
                  button('Rollback', () => rollback(s.image, s.name), { ariaLabel: `Roll back to ${label}` }),
                  button('Delete', () => removeSnap(s.image, s.name), { kind: 'danger', ariaLabel: `Delete snapshot ${label}` }));
              },
            },
          ],
          rows: snaps,
          empty: 'No snapshots.',
        }));
      } catch (err) {
        replace(imagesSlot, errorBox(err));
        replace(snapsSlot);
      }
    };

    const refreshTrash = async () => {
      try {
        const entries = flattenPools(await get(`${BASE}/trash`));
        replace(trashSlot, table({
          caption: 'Trash',
          rowLabel: (t) => `${t.pool_name}/${t.name}`,
          columns: [
            { label: 'Name', render: (t) => h('strong', {}, t.name) },
            { label: 'Pool', render: (t) => t.pool_name },
            { label: 'ID', render: (t) => h('code', {}, t.id) },
            { label: 'Moved', render: (t) => datetime(t.deletion_time) },
            { label: 'Protected until', render: (t) => datetime(t.deferment_end_time) },
            {
              label: 'Actions',
              render: (t) => h('div', { class: 'actions' },
                button('Restore', () => restore(t), { kind: 'primary', ariaLabel: `Restore ${t.pool_name}/${t.name}` }),
                button('Delete', () => purge(t), { kind: 'danger', ariaLabel: `Delete ${t.pool_name}/${t.name} from trash` })),
            },
          ],
          rows: entries,
          empty: 'The trash is empty.',
        }));
      } catch (err) {
        replace(trashSlot, errorBox(err));
      }
    };

    const loadPools = async () => {
      const all = await get('/api/pool');
      const rbdPools = all.filter((p) => (p.application_metadata || []).includes('rbd'));
      pools = (rbdPools.length ? rbdPools : all).map((p) => p.pool_name);
      if (defaultFeatures === null) {
        try {
          defaultFeatures = await get(`${BASE}/default_features`);
        } catch {
          defaultFeatures = undefined; // let the server choose
        }
      }
    };

    const create = async () => {
      try {
        await loadPools();
      } catch (err) {
        await runAction(() => Promise.reject(err));
        return;
      }
      await formDialog({
        title: 'Create image',
        submitLabel: 'Create image',
        description: pools.length ? null : 'There is no pool yet: create one on the Pools page first.',
        fields: [
          { name: 'name', label: 'Name', required: true },
          { name: 'pool_name', label: 'Pool', type: 'select', options: pools, value: pools[0] },
          ...sizeFields(0),
        ],
        onSubmit: async (v) => {
          const body = { name: v.name.trim(), pool_name: v.pool_name, size: sizeBytes(v) };
          if (Array.isArray(defaultFeatures)) body.features = defaultFeatures;
          await post(BASE, body);
          await refreshImages();
        },
      });
    };

    const resize = (img) => formDialog({
      title: `Resize ${imageName(img)}`,
      submitLabel: 'Resize',
      description: `Current size: ${bytes(img.size)}.`,
      fields: sizeFields(img.size),
      onSubmit: async (v) => {
        await put(`${BASE}/${spec(img)}`, { size: sizeBytes(v) });
        await refreshImages();
      },
    });

    const snapshot = (img) => formDialog({
      title: `Create snapshot of ${imageName(img)}`,
      submitLabel: 'Create snapshot',
      fields: [{ name: 'snapshot_name', label: 'Snapshot name', required: true, value: `snap-${new Date().toISOString().slice(0, 19).replace(/[:T-]/g, '')}` }],
      onSubmit: async (v) => {
        await post(`${BASE}/${spec(img)}/snap`, { snapshot_name: v.snapshot_name.trim() });
        await refreshImages();
      },
    });

    const clone = async (img, snap) => {
      try {
        await loadPools();
      } catch (err) {
        await runAction(() => Promise.reject(err));
        return;
      }
      await formDialog({
        title: `Clone ${imageName(img)}@${snap}`,
        submitLabel: 'Clone',
        fields: [
          { name: 'child_image_name', label: 'New image name', required: true, value: `${img.name}-clone` },
          { name: 'child_pool_name', label: 'Pool', type: 'select', options: pools, value: img.pool_name },
        ],
        onSubmit: async (v) => {
          await post(`${BASE}/${spec(img)}/snap/${encodeURIComponent(snap)}/clone`, {
            child_pool_name: v.child_pool_name, child_image_name: v.child_image_name.trim(),
          });
          await refreshImages();
        },
      });
    };

    const protect = (img, snap, on) => runAction(async () => {
      await put(`${BASE}/${spec(img)}/snap/${encodeURIComponent(snap)}`, { is_protected: on });
      await refreshImages();
    }, `${imageName(img)}@${snap} ${on ? 'protected' : 'unprotected'}`);

    const rollback = (img, snap) => confirmDialog({
      title: 'Roll back image',
      message: `Roll ${imageName(img)} back to snapshot ${snap}? Data written since is lost.`,
      confirmLabel: 'Roll back',
      onConfirm: async () => {
        await post(`${BASE}/${spec(img)}/snap/${encodeURIComponent(snap)}/rollback`, {});
        await refreshImages();
      },
    });

    const removeSnap = (img, snap) => confirmDialog({
      title: 'Delete snapshot',
      message: `Delete snapshot ${imageName(img)}@${snap}?`,
      confirmLabel: 'Delete snapshot',
      onConfirm: async () => {
        await del(`${BASE}/${spec(img)}/snap/${encodeURIComponent(snap)}`);
        await refreshImages();
      },
    });

    const trash = (img) => confirmDialog({
      title: 'Move to trash',
      message: `Move ${imageName(img)} to the trash? It can be restored from there.`,
      confirmLabel: 'Move to trash',
      onConfirm: async () => {
        await post(`${BASE}/${spec(img)}/move_trash`, { delay: 0 });
        await refresh();
      },
    });

    const remove = (img) => confirmDialog({
      title: 'Delete image',
      message: `Delete ${imageName(img)} and its snapshots? This cannot be undone.`,
      confirmLabel: 'Delete image',
      onConfirm: async () => {
        await del(`${BASE}/${spec(img)}`);
        await refreshImages();
      },
    });

    const restore = (t) => formDialog({
      title: `Restore ${t.pool_name}/${t.name}`,
      submitLabel: 'Restore',
      fields: [{ name: 'new_image_name', label: 'Image name', required: true, value: t.name }],
      onSubmit: async (v) => {
        await post(`${BASE}/trash/${encodeURIComponent(`${t.pool_name}/${t.id}`)}/restore`, { new_image_name: v.new_image_name.trim() });
        await refresh();
      },
    });

    const purge = (t) => confirmDialog({
      title: 'Delete from trash',
      message: `Delete ${t.pool_name}/${t.name} for good?`,
      confirmLabel: 'Delete for good',
      onConfirm: async () => {
        await del(`${BASE}/trash/${encodeURIComponent(`${t.pool_name}/${t.id}`)}?force=true`);
        await refreshTrash();
      },
    });

    main.append(
      h('div', { class: 'toolbar' }, button('Create image', create, { kind: 'primary' }), button('Refresh', refresh)),
      card('Images', imagesSlot),
      card('Snapshots', snapsSlot),
      card('Trash', trashSlot));
    refresh();
    return null;
  },
};
