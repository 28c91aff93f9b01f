// Builds the web UI (Preact) into dist/ui, which every master serves. `npx vite --config
// ui/vite.config.ts` serves it for development, proxying the API to a master on :5050.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const master = process.env.NESOS_MASTER_URL ?? 'http://127.0.0.1:5050';

export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 300,
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  server: {
    proxy: Object.fromEntries(['/api', '/state', '/state-summary', '/files', '/master', '/metrics'].map((p) => [p, master])),
  },
});
