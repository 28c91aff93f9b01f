/**
 * Headless Chromium for benchmarks, through playwright-core: the same binary and flags as the
 * browser tests (test/browser/browser.ts, which dist/ does not hold), a fresh profile in a
 * temp dir removed by `close()`. `chromiumPath()` is undefined when Chromium is missing.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Flags for headless Chromium on a machine without network or GPU (as the browser tests use). */
const FLAGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];

/** Where Chromium is, if installed (NESOS_CHROMIUM overrides). */
export function chromiumPath(): string | undefined {
  for (const p of [process.env.NESOS_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'])
    if (p !== undefined && p !== '' && existsSync(p)) return p;
  return undefined;
}

/** A headless Chromium with a fresh profile. */
export interface BenchBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Starts Chromium from `executablePath`. */
export async function launchChromium(executablePath: string): Promise<BenchBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'nesos-bench-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: FLAGS, timeout: 30_000 });
    return {
      context,
      close: async () => {
        await context.close().catch(() => undefined);
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
}
