// Vite build and dev-server config: base /portal/, and a proxy to a local Hookline stack for `npx vite`.
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

const target = `http://127.0.0.1:${process.env.HOOKLINE_PORT ?? '3301'}`;

export default defineConfig({
  base: '/portal/',
  plugins: [preact()],
  build: { target: 'es2022' },
  server: {
    proxy: {
      '/api': target,
      '/health': target,
    },
  },
});
