import { useCallback, useEffect, useRef, useState } from 'react';

export interface Polled<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  /** Loads again now (coalesced with a load already in flight). */
  refresh: () => void;
}

/**
 * Loads `load()` now, every `intervalMs`, and on `refresh()`. Keeps the last good data when a load fails and
 * reports the error's message. A new `load` identity (its dependencies changed) reloads at once.
 */
export function usePolling<T>(load: () => Promise<T>, intervalMs: number): Polled<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const inFlight = useRef(false);
  const again = useRef(false);
  const latest = useRef(load);
  const alive = useRef(true);

  const run = useCallback(async () => {
    if (inFlight.current) {
      again.current = true;
      return;
    }
    inFlight.current = true;
    try {
      const value = await latest.current();
      if (!alive.current) return;
      setData(value);
      setError(null);
    } catch (err) {
      if (alive.current) setError((err as Error).message);
    } finally {
      inFlight.current = false;
      if (alive.current) setLoading(false);
      if (again.current && alive.current) {
        again.current = false;
        void run();
      }
    }
  }, []);

  useEffect(() => {
    latest.current = load;
    alive.current = true;
    void run();
    const t = setInterval(() => void run(), intervalMs);
    return () => {
      alive.current = false;
      clearInterval(t);
    };
  }, [run, intervalMs, load]);

  return { data, error, loading, refresh: () => void run() };
}
