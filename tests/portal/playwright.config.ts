// Playwright's configuration for the portal's end-to-end tests. Run through
// scripts/portal-e2e.sh, which starts a private local stack and sets HOOKLINE_URL,
// HOOKLINE_OPERATOR_KEY and CHROMIUM (the system's Chromium: no browser is downloaded).
import { defineConfig } from '@playwright/test';
import path from 'node:path';

const results = process.env.PORTAL_RESULTS ?? path.resolve(__dirname, '../../target/portal-e2e-results');

export default defineConfig({
  testDir: './specs',
  // Files run in their name order (01-…, 02-…): the expired session made by the global setup
  // is tested by the last file, once it has expired.
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  globalSetup: './lib/global-setup.ts',
  outputDir: results,
  reporter: [['list'], ['./lib/summary-reporter.ts']],
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
    baseURL: process.env.HOOKLINE_URL,
    // The app's Content-Security-Policy stays in force: it is under test.
    bypassCSP: false,
    actionTimeout: 10_000,
    navigationTimeout: 15_000,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    colorScheme: 'light',
    viewport: { width: 1280, height: 800 },
  },
});
