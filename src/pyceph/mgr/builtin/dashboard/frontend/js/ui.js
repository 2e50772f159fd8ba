// ui.js — the building blocks every page uses: notifications (API errors shown with
// their `detail`), tables, cards, buttons, form and confirmation dialogs.

import { h, replace, uid } from './dom.js';

/** How long a success notice stays (ms); errors stay until dismissed. */
export const NOTICE_MS = 5000;

function noticeArea() {
  return document.getElementById('notices');
}

/** Show a notice: kind 'error' (role=alert, stays) or 'success' (role=status, fades). */
export function notify(message, kind = 'success') {
  const item = h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('span', { class: 'notice-text' }, message),
    h('button', { type: 'button', class: 'notice-close', 'aria-label': 'Dismiss', onclick: () => item.remove() }, '×'));
  noticeArea().append(item);
  if (kind !== 'error') setTimeout(() => item.remove(), NOTICE_MS);
  return item;
}

/** The user-facing text of any error (ApiError's detail, else its message). */
export function errorText(err) {
  return err?.detail || err?.message || String(err);
}

/** Run an action: success notice on success, the API's detail as an error notice on failure. */
export async function runAction(fn, successMessage) {
  try {
    const result = await fn();
    if (successMessage) notify(successMessage, 'success');
    return result;
  } catch (err) {
    notify(errorText(err), 'error');
    return undefined;
  }
}

export function button(label, onclick, { kind = 'secondary', ariaLabel, type = 'button', disabled = false } = {}) {
  return h('button', { type, class: `btn btn-${kind}`, onclick, 'aria-label': ariaLabel, disabled }, label);
}

export function card(title, ...children) {
  const id = uid('card');
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id, class: 'card-title' }, title), ...children);
}

export function badge(text, tone) {
  return h('span', { class: `badge badge-${tone}` }, text);
}

/** A health status (HEALTH_OK/WARN/ERR) as a coloured badge. */
export function healthBadge(status) {
  const tone = status === 'HEALTH_OK' ? 'ok' : status === 'HEALTH_WARN' ? 'warn' : 'err';
  return badge(status || 'unknown', tone);
}

/**
 * A table. columns: [{label, render: row -> node|string, class?}]; rows: array.
 * Wrapped in a scrolling container so wide tables stay usable on a phone.
 */
export function table({ caption, columns, rows, empty = 'Nothing here yet.', rowLabel }) {
  const body = rows.length
    ? rows.map((row) => h('tr', { 'aria-label': rowLabel ? rowLabel(row) : null },
      columns.map((c) => h('td', { class: c.class, 'data-label': c.label }, c.render(row)))))
    : h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, empty));
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'table' },
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)))),
      h('tbody', {}, body)));
}

/** A page's loading placeholder and error box. */
export function loading(what = 'Loading…') {
  return h('p', { class: 'loading', role: 'status' }, what);
}

export function errorBox(err) {
  return h('div', { class: 'error-box', role: 'alert' }, errorText(err));
}

function field(f) {
  const id = uid('field');
  let control;
  if (f.type === 'select') {
    control = h('select', { id, name: f.name, required: f.required },
      f.options.map((o) => {
        const [value, label] = Array.isArray(o) ? o : [o, o];
        return h('option', { value, selected: String(value) === String(f.value ?? '') }, label);
      }));
  } else if (f.type === 'checkbox') {
    control = h('input', { id, name: f.name, type: 'checkbox', checked: Boolean(f.value) });
    return h('div', { class: 'field field-check' }, control, h('label', { for: id }, f.label));
  } else {
    control = h('input', {
      id, name: f.name, type: f.type || 'text', value: f.value ?? '', required: f.required,
      min: f.min, max: f.max, step: f.step, placeholder: f.placeholder, autocomplete: f.autocomplete || 'off',
      pattern: f.pattern, title: f.title,
    });
  }
  const help = f.help ? h('small', { class: 'field-help' }, f.help) : null;
  return h('div', { class: 'field' }, h('label', { for: id }, f.label), control, help);
}

/** Read a form's named controls into an object (checkboxes as booleans). */
export function formValues(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    out[el.name] = el.type === 'checkbox' ? el.checked : el.value;
  }
  return out;
}

/**
 * An inline form. fields: see field(); onSubmit(values) may throw: its error is shown
 * in the form (role=alert) and the form stays. Answers the <form> element.
 */
export function form({ label, fields, submitLabel, onSubmit, submitKind = 'primary' }) {
  const errorSlot = h('div', { class: 'form-error', role: 'alert' });
  const submit = button(submitLabel, null, { kind: submitKind, type: 'submit' });
  const el = h('form', { class: 'form', 'aria-label': label },
    fields.map(field), errorSlot, h('div', { class: 'form-actions' }, submit));
  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(errorSlot);
    submit.disabled = true;
    el.setAttribute('aria-busy', 'true');
    try {
      await onSubmit(formValues(el), el);
    } catch (err) {
      replace(errorSlot, errorText(err));
    } finally {
      submit.disabled = false;
      el.removeAttribute('aria-busy');
    }
  });
  return el;
}

/**
 * A modal dialog holding a form; resolves true once onSubmit succeeded, false when
 * cancelled. Errors of onSubmit are shown in the dialog, which stays open.
 */
export function formDialog({ title, fields, submitLabel, onSubmit, description, submitKind = 'primary' }) {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    let done = false;
    const finish = (ok) => {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      resolve(ok);
    };
    const body = form({
      label: null, // the dialog's heading names it
      fields, submitLabel, submitKind,
      onSubmit: async (values) => {
        await onSubmit(values);
        finish(true);
      },
    });
    body.querySelector('.form-actions').prepend(button('Cancel', () => finish(false)));
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, title), description ? h('p', {}, description) : null, body);
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      finish(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector('input, select')?.focus();
  });
}

/** A confirmation dialog: resolves true if confirmed. Errors of onConfirm shown inside. */
export function confirmDialog({ title, message, confirmLabel = 'Confirm', onConfirm }) {
  return formDialog({
    title, description: message, fields: [], submitLabel: confirmLabel, submitKind: 'danger-solid',
    onSubmit: async () => onConfirm && onConfirm(),
  });
}
