// format.js — numbers for people: binary byte sizes, rates, durations, dates.

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
/** Multipliers of the size units offered in forms. */
export const SIZE_UNITS = { MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 };

/** 1536 -> "1.5 KiB" (binary units, as upstream's dashboard `dimlessBinary` pipe). */
export function bytes(n) {
  let value = Number(n) || 0;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${BYTE_UNITS[unit]}`;
}

/** Bytes per second. */
export function rate(n) {
  return `${bytes(n)}/s`;
}

/** Plain count with at most one decimal, thousands with k/M. */
export function count(n) {
  const v = Number(n) || 0;
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (Math.abs(v) >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

/** Ratio 0..1 as a percentage. */
export function percent(ratio) {
  const v = Math.max(0, Number(ratio) || 0) * 100;
  return `${v < 10 ? v.toFixed(1) : v.toFixed(0)} %`;
}

/** An ISO or Ceph timestamp as local date and time; unparsable ones as they are. */
export function datetime(value) {
  if (value === null || value === undefined || value === '') return '';
  const ms = parseStamp(value);
  return Number.isNaN(ms) ? String(value) : new Date(ms).toLocaleString();
}

/**
 * Milliseconds since the epoch of a Ceph timestamp ("2026-12-07T07:44:17.02+0000",
 * "2026-12-07 07:44:17.02"), an ISO string, or epoch seconds; NaN if unparsable.
 */
export function parseStamp(value) {
  if (typeof value === 'number') return value * 1000;
  const text = String(value).trim().replace(' ', 'T').replace(/([+-]\d\d)(\d\d)$/, '$1:$2');
  return Date.parse(text);
}
