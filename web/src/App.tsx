import { useCallback, useEffect, useState } from 'react';
import type { LoginResult } from '../../src/client/api-request.js';
import { ConsoleShell } from './components/ConsoleShell.js';
import { LoginView } from './components/LoginView.js';
import { type ConsoleConfig, fetchConfig } from './lib/api.js';
import { clearAuth, loadAuth, saveAuth } from './lib/auth-store.js';

/** Signed out: the login form. Signed in: the console for that agent or supervisor. */
export function App() {
  const [auth, setAuth] = useState<LoginResult | null>(() => loadAuth());
  const [config, setConfig] = useState<ConsoleConfig | null>(null);
  const [signedOutBecause, setSignedOutBecause] = useState<string | null>(null);

  useEffect(() => {
    fetchConfig()
      .then(setConfig)
      .catch(() =>
        setConfig({
          demo: false,
          inspect: false,
          inspectUrl: null,
          protocol: 1,
          answerDeadlineSeconds: 45,
          iceServers: [],
        }),
      );
  }, []);

  const onLogin = useCallback((result: LoginResult) => {
    saveAuth(result);
    setSignedOutBecause(null);
    setAuth(result);
  }, []);

  const onLogout = useCallback((reason?: string) => {
    clearAuth();
    setSignedOutBecause(reason ?? null);
    setAuth(null);
  }, []);

  // Signing out in one tab signs out the others.
  useEffect(() => {
    const onStorage = (e: StorageEvent) => {
      if (e.key === null || e.key === 'wacc.auth') setAuth(loadAuth());
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, []);

  if (!auth) return <LoginView onLogin={onLogin} notice={signedOutBecause} />;
  return <ConsoleShell key={auth.token} auth={auth} config={config} onLogout={onLogout} />;
}
