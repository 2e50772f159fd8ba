// api.js — the dashboard's REST API client: upstream's contract (Pacific
// src/pybind/mgr/dashboard): `POST /api/auth` gives a token sent as a Bearer header,
// every call carries the versioned Accept header, errors carry `detail`, and long
// operations answer 202 with a task ({name, metadata}) to poll at `/api/task`.

export const API_VERSION = '1.0';
export const accept = (version = API_VERSION) => `application/vnd.ceph.api.v${version}+json`;
/**
 * Where the UI is served from, without its trailing slash: API paths are resolved
 * under it, so the dashboard also works behind a reverse proxy's path prefix
 * (upstream's `url_prefix`).
 */
export const BASE_PATH = new URL('.', document.baseURI).pathname.replace(/\/$/, '');
const TOKEN_KEY = 'pyceph.dashboard.token';
const USER_KEY = 'pyceph.dashboard.user';
/** How often a 202 task is polled, and for how long at most (ms). */
export const TASK_POLL_MS = 500;
export const TASK_TIMEOUT_MS = 120000;

/** An error answer of the API: `status` and the body's `detail` (upstream's key). */
export class ApiError extends Error {
  constructor(status, detail, body) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.body = body;
  }
}

let onUnauthorized = () => {};
/** Called when the API answers 401: the session is gone. */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  get username() {
    return sessionStorage.getItem(USER_KEY) || '';
  },
  set(token, username) {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(USER_KEY, username);
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
  },
};

/** The human message of an error body (upstream: `detail`; aiohttp/pydantic variants too). */
export function errorDetail(body, fallback) {
  if (body && typeof body === 'object') {
    if (typeof body.detail === 'string' && body.detail) return body.detail;
    if (Array.isArray(body.detail) && body.detail.length) {
      return body.detail.map((d) => d.msg || JSON.stringify(d)).join('; ');
    }
    if (typeof body.message === 'string' && body.message) return body.message;
    if (typeof body.error === 'string' && body.error) return body.error;
  }
  if (typeof body === 'string' && body.trim()) return body.trim().slice(0, 500);
  return fallback;
}

async function parseBody(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Call the API. `body` is sent as JSON. Answers the parsed JSON (null when empty).
 * A 202 with a task is awaited until the task finishes (its failure raised).
 * Throws ApiError with the server's `detail` on any non-2xx answer.
 */
export async function request(method, path, body = undefined, { waitTask = true, version = API_VERSION } = {}) {
  const headers = { Accept: accept(version) };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(BASE_PATH + path, init);
  } catch (err) {
    throw new ApiError(0, `The dashboard cannot be reached: ${err.message}`, null);
  }
  const data = await parseBody(response);
  if (!response.ok) {
    if (response.status === 401 && !path.startsWith('/api/auth')) onUnauthorized();
    throw new ApiError(response.status, errorDetail(data, `${response.status} ${response.statusText}`), data);
  }
  if (response.status === 202 && waitTask && data && data.name) {
    return waitForTask(data.name, data.metadata);
  }
  return data;
}

export const get = (path, version = API_VERSION) => request('GET', path, undefined, { version });
export const post = (path, body = {}) => request('POST', path, body);
export const put = (path, body = {}) => request('PUT', path, body);
export const del = (path) => request('DELETE', path);

function sameMetadata(a, b) {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** Poll `/api/task?name=` until the task with this metadata is finished. */
export async function waitForTask(name, metadata) {
  const deadline = Date.now() + TASK_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const tasks = await get(`/api/task?name=${encodeURIComponent(name)}`);
    const done = (tasks?.finished_tasks || []).find((t) => t.name === name && sameMetadata(t.metadata, metadata));
    if (done) {
      if (done.success === false) {
        const exc = done.exception || {};
        throw new ApiError(exc.status || 400, errorDetail(exc, `task ${name} failed`), exc);
      }
      return done.ret_value ?? null;
    }
    const running = (tasks?.executing_tasks || []).some((t) => t.name === name && sameMetadata(t.metadata, metadata));
    if (!running) return null; // neither running nor kept among the finished: it is done
    await new Promise((resolve) => setTimeout(resolve, TASK_POLL_MS));
  }
  throw new ApiError(0, `task ${name} did not finish in ${TASK_TIMEOUT_MS / 1000} s`, null);
}

/** Log in: answers upstream's auth body ({token, username, permissions, ...}). */
export async function login(username, password) {
  const data = await request('POST', '/api/auth', { username, password });
  session.set(data.token, data.username || username);
  return data;
}

/** Log out: tell the server (best effort), forget the token. */
export async function logout() {
  try {
    if (session.token) await request('POST', '/api/auth/logout', {});
  } finally {
    session.clear();
  }
}

/** An RBD image spec for a URL path segment: `pool/[namespace/]name`, encoded. */
export function imageSpec(pool, name, namespace = '') {
  return encodeURIComponent(namespace ? `${pool}/${namespace}/${name}` : `${pool}/${name}`);
}
