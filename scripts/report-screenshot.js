#!/usr/bin/env node
'use strict';
/**
 * Draws docs/churn-report.png, the README's picture of `cdk8s-mlops graph`: the churn
 * example's HTML report (from dist/, through the built lib/) in headless Chromium.
 * Run after `npm run build` and `npm run synth`: `node scripts/report-screenshot.js`.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');
const { main } = require('../lib/cli/main.js');

(async () => {
  const root = path.join(__dirname, '..');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-shot-'));
  const code = await main(['graph', path.join(root, 'dist', 'churn.k8s.yaml'), '--format', 'html', '-o', out], { out: () => {} });
  if (code !== 0) throw new Error(`cdk8s-mlops graph exited ${code}`);
  const context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-chromium-')), {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1600, height: 800 },
    deviceScaleFactor: 1.5,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await context.newPage();
    await page.goto(`file://${path.join(out, 'churn.html')}`);
    // The summary, the critical path and the DAG: what fits a README.
    const bottom = await page.evaluate(() => document.querySelector('section.graph').getBoundingClientRect().bottom);
    await page.screenshot({ path: path.join(root, 'docs', 'churn-report.png'), clip: { x: 0, y: 0, width: 1600, height: Math.ceil(bottom) + 20 } });
  } finally {
    await context.close();
  }
})().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exitCode = 1;
});
