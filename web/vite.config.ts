import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const webDir = fileURLToPath(new URL('.', import.meta.url));
/** Where `npm start` listens in development; `npx vite --config web/vite.config.ts` proxies to it. */
const backend = process.env.CONSOLE_BACKEND_URL ?? 'http://127.0.0.1:3000';

// The agent console: root web/, built into web/dist, which the http role serves at / (SPA fallback).
export default defineConfig({
  root: webDir,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
  },
  server: {
    proxy: {
      '/api': backend,
      '/socket.io': { target: backend, ws: true },
    },
  },
});
