import { type FormEvent, useState } from 'react';
import { ApiError, type LoginResult, login } from '../../../src/client/api-request.js';

export function LoginView({ onLogin, notice }: { onLogin: (r: LoginResult) => void; notice: string | null }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLogin(await login(window.location.origin, username.trim(), password));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : `Could not sign in: ${(err as Error).message}`);
      setBusy(false);
    }
  };

  return (
    <main className="login-page">
      <form className="login-card" onSubmit={submit} aria-labelledby="login-title">
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden="true" />
          <span>Contact Center</span>
        </div>
        <h1 id="login-title">Sign in to the agent console</h1>
        {notice && (
          <p className="banner banner-info" role="status">
            {notice}
          </p>
        )}
        <label className="field">
          <span>Username</span>
          <input
            data-testid="login-username"
            name="username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            required
          />
        </label>
        <label className="field">
          <span>Password</span>
          <input
            data-testid="login-password"
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        {error && (
          <p className="banner banner-error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button className="btn btn-primary btn-block" type="submit" data-testid="login-submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
