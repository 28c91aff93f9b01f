/**
 * Debian's Chromium driven by playwright-core, for the browser tests: a fresh profile per
 * browser, the flags this machine needs (no background networking: the network is closed),
 * screenshots only into a temp dir. `chromiumPath()` is undefined when Chromium is not
 * installed; the tests then skip, saying how to install it (`npm run setup` does, as root).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Flags for headless Chromium on a machine without network or GPU. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

/** Where Chromium is, if installed (NESOS_CHROMIUM overrides). */
export function chromiumPath(): string | undefined {
  for (const p of [process.env.NESOS_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'])
    if (p !== undefined && p !== '' && existsSync(p)) return p;
  return undefined;
}

/** Why the browser tests skip, when they do. */
export const NO_CHROMIUM =
  'browser tests skipped: Chromium is not installed. Run `npm run setup` as root (it runs apt-get install -y chromium), ' +
  'or `sudo apt-get install -y chromium`, or set NESOS_CHROMIUM to a Chromium binary.';

/** The built web UI, which the tests serve. */
export const UI_DIR = join(import.meta.dirname, '..', '..', 'dist', 'ui');

/** A browser with a fresh profile, closed and removed by `close()`. */
export class TestBrowser {
  /** Where screenshots go (a temp dir, never the repository). */
  readonly shotsDir = mkdtempSync(join(tmpdir(), 'nesos-shots-'));
  private constructor(
    readonly context: BrowserContext,
    private readonly profile: string,
  ) {}

  /** Starts Chromium. */
  static async launch(): Promise<TestBrowser> {
    const executablePath = chromiumPath();
    if (executablePath === undefined) throw new Error(NO_CHROMIUM);
    if (!existsSync(join(UI_DIR, 'index.html'))) throw new Error(`${UI_DIR}/index.html is missing: run \`npm run build\` first (npm test does)`);
    const profile = mkdtempSync(join(tmpdir(), 'nesos-chromium-'));
    const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: CHROMIUM_FLAGS, timeout: 30_000 });
    return new TestBrowser(context, profile);
  }

  /** A new tab; page errors fail loudly in the test output. */
  async page(): Promise<Page> {
    const page = await this.context.newPage();
    page.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
    return page;
  }

  /** Saves a screenshot of `page` in the temp dir (for debugging; returns its path). */
  async shot(page: Page, name: string): Promise<string> {
    const path = join(this.shotsDir, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    return path;
  }

  /** Closes the browser and removes its profile (and the screenshots unless NESOS_KEEP_TEST_DIRS=1). */
  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
    rmSync(this.profile, { recursive: true, force: true });
    if (process.env.NESOS_KEEP_TEST_DIRS !== '1') rmSync(this.shotsDir, { recursive: true, force: true });
  }
}
