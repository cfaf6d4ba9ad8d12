import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// monaco-editor's export map appends `.js` to every subpath; its style sheets are reached through this alias.
const monacoEsm = dirname(fileURLToPath(import.meta.resolve('monaco-editor')));

// Everything the editor needs, Monaco's worker included, is bundled into
// dist/: the page never requests anything from another origin.
export default defineConfig({
  plugins: [react()],
  base: '/',
  resolve: { alias: [{ find: /^monaco-css\/(.*)$/, replacement: `${monacoEsm}/$1` }] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 4096,
    reportCompressedSize: false,
  },
  worker: { format: 'es' },
});
