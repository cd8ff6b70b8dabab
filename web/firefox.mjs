// Debian's Firefox ESR, as the browser tests run it: driven by puppeteer-core over WebDriver BiDi, with a real
// window (run it under xvfb-run: headless Firefox offers no WebGL2 here, with a window it renders on Mesa's
// llvmpipe), no network chatter of its own, a fresh profile that is removed when the browser closes.
//   const { browser, page, close } = await launchFirefox({ width, height });
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

export const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';
// On top of the test profile puppeteer writes (@puppeteer/browsers, firefox.js: no updates, no telemetry upload,
// no safe browsing, blocklist and add-on servers pointed at dummy.test). With these, Firefox behind a logging proxy
// made no request of its own in 30 s on the studio's page (Firefox 153 ESR; before them: remote settings).
export const FIREFOX_PREFS = {
  // WebGL2 on llvmpipe needs nothing more in Firefox 153 ESR; forcing it keeps a GPU blocklist entry for software
  // rendering from turning WebGL off.
  'webgl.force-enabled': true,
  // Remote settings: release builds ignore this pref unless MOZ_REMOTE_SETTINGS_DEVTOOLS=1 (set below) and
  // otherwise poll firefox.settings.services.mozilla.com, puppeteer's dummy.test notwithstanding.
  'services.settings.server': 'data:,#remote-settings-dummy/v1',
  // Lookups a fresh profile makes outside HTTP: captive portal and connectivity checks, the region, push, DNS and
  // link prefetching, DNS over HTTPS; and system add-on updates, telemetry.
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'browser.region.network.url': '',
  'browser.region.update.enabled': false,
  'dom.push.connection.enabled': false,
  'network.dns.disablePrefetch': true,
  'network.prefetch-next': false,
  'network.trr.mode': 5,
  'extensions.systemAddon.update.enabled': false,
  'toolkit.telemetry.server': '',
};

export async function launchFirefox({ width = 1280, height = 800, prefs = {} } = {}) {
  if (!process.env.DISPLAY)
    throw new Error('Firefox needs a window here: run it under xvfb-run -a -s "-screen 0 1280x800x24"');
  const profile = mkdtempSync(join(tmpdir(), 'vae-studio-firefox-'));
  let browser = null;
  const close = async () => {
    if (browser) await browser.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    browser = await puppeteer.launch({
      browser: 'firefox', protocol: 'webDriverBiDi', executablePath: FIREFOX, headless: false,
      userDataDir: profile, extraPrefsFirefox: { ...FIREFOX_PREFS, ...prefs }, defaultViewport: null, timeout: 120000,
      env: { ...process.env, MOZ_REMOTE_SETTINGS_DEVTOOLS: '1' },
    });
    const page = (await browser.pages())[0] || await browser.newPage();
    await page.setViewport({ width, height });
    return { browser, page, close };
  } catch (e) {
    await close();
    throw e;
  }
}
