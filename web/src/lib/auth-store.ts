import type { LoginResult } from '../../../src/client/api-request.js';

const KEY = 'wacc.auth';

/**
 * The login is kept in localStorage so a reload (or a second tab) resumes without logging in again; it is dropped
 * once expired.
 */
export function loadAuth(now = Date.now()): LoginResult | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const auth = JSON.parse(raw) as LoginResult;
    if (typeof auth.token !== 'string' || typeof auth.expiresAt !== 'number' || auth.expiresAt <= now) {
      localStorage.removeItem(KEY);
      return null;
    }
    return auth;
  } catch {
    return null;
  }
}

export function saveAuth(auth: LoginResult): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(auth));
  } catch {
    // Private mode or a full quota: the session still works until the tab closes.
  }
}

export function clearAuth(): void {
  try {
    localStorage.removeItem(KEY);
  } catch {
    // ignore
  }
}
