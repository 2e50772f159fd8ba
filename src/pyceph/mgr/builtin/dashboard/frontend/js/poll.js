// poll.js — run an async function now and then every `ms`, never two at once; the
// returned stop() is the poller's owner's handle (pages call it when left).

export function poll(fn, ms) {
  let stopped = false;
  let timer = null;
  const tick = async () => {
    if (stopped) return;
    try {
      await fn();
    } catch (err) {
      console.error('poll:', err); // the page shows its own errors; keep polling
    } finally {
      if (!stopped) timer = setTimeout(tick, ms);
    }
  };
  tick();
  return () => {
    stopped = true;
    if (timer !== null) clearTimeout(timer);
  };
}
