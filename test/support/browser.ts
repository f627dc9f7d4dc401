/**
 * UI driver for the Teams emulator (Microsoft 365 Agents Playground) in headless Chromium: what a
 * person sees and clicks. Uses Debian's Chromium through playwright-core (no browser downloads),
 * and keeps the page offline: only loopback requests go out.
 *
 * The emulator's UI has no way to become another mock user: it always acts as the config's
 * `currentUser`. Test other people through `EmulatorClient` (test/support/emulator.ts).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BrowserContext, Locator, Page, chromium } from 'playwright-core';

/** Debian's package; Playwright's own browser builds cannot be downloaded here. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-domain-reliability',
  '--disable-client-side-phishing-detection',
  // Anything that escapes the request router (the browser's own traffic) goes to a dead proxy;
  // loopback stays direct because Chromium always bypasses proxies for it.
  '--proxy-server=http://127.0.0.1:9',
];

/** A Chromium with its own throw-away profile. */
export interface LaunchedBrowser {
  context: BrowserContext;
  userDataDir: string;
  /** Requests that were refused because they were not to loopback (fonts and a script from an Office CDN). */
  blockedRequests: string[];
  /** Closes Chromium and removes the profile directory. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link launchBrowser}. */
export interface LaunchBrowserOptions {
  /** Defaults to true; false needs a display. */
  headless?: boolean;
  /** Defaults to 1280×900, wide enough for the chat list, the conversation and the log panel. */
  viewport?: { width: number; height: number };
  /** Defaults to {@link CHROMIUM_PATH}. */
  executablePath?: string;
  /** The browser's time zone (the emulator passes it to the bot as the user's). Defaults to UTC. */
  timezoneId?: string;
}

/**
 * Launches headless Chromium with a fresh profile in a temporary directory, refusing every request
 * that is not to 127.0.0.1 or localhost.
 *
 * @throws Error naming the executable when Chromium cannot start (on Debian: `apt-get install chromium`).
 */
export async function launchBrowser(options: LaunchBrowserOptions = {}): Promise<LaunchedBrowser> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'emulator-chromium-'));
  const executablePath = options.executablePath ?? CHROMIUM_PATH;
  let context: BrowserContext;
  try {
    // Playwright refuses --user-data-dir in args: a persistent context is how to choose the profile.
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: options.headless ?? true,
      args: CHROMIUM_ARGS,
      viewport: options.viewport ?? { width: 1280, height: 900 },
      locale: 'en-US',
      timezoneId: options.timezoneId ?? 'UTC',
    });
  } catch (error) {
    await rm(userDataDir, { recursive: true, force: true });
    throw new Error(`Cannot launch Chromium at ${executablePath} (install it with "apt-get install -y chromium"): ${error instanceof Error ? error.message : String(error)}`);
  }

  const blockedRequests: string[] = [];
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (isLoopback(url)) {
      await route.continue();
    } else {
      blockedRequests.push(url);
      await route.abort('blockedbyclient');
    }
  });

  let closed: Promise<void> | undefined;
  return {
    context,
    userDataDir,
    blockedRequests,
    close: () => {
      closed ??= (async () => {
        await context.close().catch(() => undefined);
        await rm(userDataDir, { recursive: true, force: true });
      })();
      return closed;
    },
  };
}

/** The chats of the emulator's default config; "<team name> - General" and "<team name> - <channel>" in general. */
export type EmulatorChatName = 'Personal Chat' | 'Group Chat' | 'My Team - General' | (string & {});

const SELECTORS = {
  editor: '[data-lexical-editor="true"][role="textbox"]',
  send: 'button[aria-label="Send Message"]',
  // Bot messages in chats. The sidebar and the log panel repeat message text, so text is only
  // searched for in these; channel threads have no such class (only generated ones).
  botMessage: '.fai-OutputCard',
  card: '.ac-adaptiveCard',
  // The @ menu above the message box.
  mentionEntry: '[role="menuitem"]',
  chat: (name: string) => `button[role="treeitem"][aria-label=${cssString(name)}]`,
  cardButton: (title: string) => `.ac-actionSet button[title=${cssString(title)}]`,
};

const DEFAULT_TIMEOUT_MS = 10_000;

/** One emulator tab. Owns its browser: {@link close} ends both. */
export class EmulatorPage {
  /**
   * Console errors and uncaught page errors, for a failing test's report; without the expected
   * ones about the blocked CDN requests.
   */
  readonly pageErrors: string[] = [];

  private constructor(readonly browser: LaunchedBrowser, readonly page: Page) {
    page.on('pageerror', (error) => this.pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const text = message.text();
      if (text.includes('net::ERR_BLOCKED_BY_CLIENT') || browser.blockedRequests.some((url) => text.includes(url))) return;
      this.pageErrors.push(text);
    });
  }

  /** Launches a browser (see {@link launchBrowser}) with one page. */
  static async launch(options: LaunchBrowserOptions = {}): Promise<EmulatorPage> {
    const browser = await launchBrowser(options);
    try {
      const page = browser.context.pages()[0] ?? await browser.context.newPage();
      return new EmulatorPage(browser, page);
    } catch (error) {
      await browser.close();
      throw error;
    }
  }

  /**
   * Opens the emulator's UI and waits until it has loaded the mock config (until then the chat
   * list shows the emulator's built-in names, "My Team - General" whatever the config says).
   * Every load makes the emulator install the app again in the personal chat: the bot gets
   * `installationUpdate` and `conversationUpdate`.
   */
  async open(url: string, timeoutMs = 30_000): Promise<void> {
    const configLoaded = this.page.waitForResponse((r) => r.url().includes('/_internal/v1/config') && r.ok(), { timeout: timeoutMs });
    // If goto fails first, this rejection is not the one to report; keep it from going unhandled.
    configLoaded.catch(() => undefined);
    await this.page.goto(url, { waitUntil: 'domcontentloaded', timeout: timeoutMs });
    await configLoaded;
    await this.page.locator(SELECTORS.chat('Personal Chat')).waitFor({ state: 'visible', timeout: timeoutMs });
  }

  /**
   * Switches to a chat or channel in the left-hand list and waits for its message box. Opening a
   * chat or channel makes the emulator install the app there again (the bot gets
   * `installationUpdate` and `conversationUpdate`).
   */
  async selectChat(name: EmulatorChatName, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    await this.page.locator(SELECTORS.chat(name)).click({ timeout: timeoutMs });
    await this.page.locator(SELECTORS.editor).first().waitFor({ state: 'visible', timeout: timeoutMs });
  }

  /**
   * Types a message as the current user and sends it; resolves once the message box is empty
   * again (the UI accepted it). In group chats and channels the bot only sees messages that
   * mention it: pass its display name as `mention` to pick it in the `@` menu first.
   */
  async sendMessage(text: string, options: { mention?: string; timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // In a channel the first box starts a new post (thread replies have their own boxes below).
    const editor = this.page.locator(SELECTORS.editor).first();
    await editor.click({ timeout: timeoutMs });
    if (options.mention !== undefined) {
      await this.page.keyboard.type(`@${options.mention}`);
      const entry = this.page.locator(SELECTORS.mentionEntry).filter({ hasText: options.mention }).first();
      try {
        await entry.click({ timeout: timeoutMs });
      } catch {
        throw new Error(`"${options.mention}" is not in the @ menu of this chat within ${timeoutMs} ms`);
      }
      await this.page.keyboard.type(' ');
    }
    await this.page.keyboard.type(text);
    // Chats have an icon button; a channel's new-post box has a "Post" button instead.
    const send = this.page.locator(SELECTORS.send).or(this.page.getByRole('button', { name: 'Post', exact: true })).first();
    await send.click({ timeout: timeoutMs });
    await waitUntil(async () => ((await editor.textContent()) ?? '').trim() === '', timeoutMs,
      `the message box still holds "${text}" ${timeoutMs} ms after Send`);
  }

  /**
   * Waits until the open chat or channel shows an Adaptive Card containing `text` (substring,
   * case-insensitive, whitespace-normalised) and returns the last such card.
   */
  async waitForCardText(text: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Locator> {
    const card = this.cards().filter({ hasText: text }).last();
    try {
      await card.waitFor({ state: 'visible', timeout: timeoutMs });
    } catch {
      throw new Error(`No card with "${text}" within ${timeoutMs} ms. Cards shown:\n${await this.describeCards()}`);
    }
    return card;
  }

  /**
   * Waits until a bot message in a chat (text or card) contains `text` and returns the last such
   * message. Chats only: in channel threads use {@link waitForCardText}.
   */
  async waitForBotText(text: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Locator> {
    const message = this.page.locator(SELECTORS.botMessage).filter({ hasText: text }).last();
    await message.waitFor({ state: 'visible', timeout: timeoutMs });
    return message;
  }

  /**
   * Clicks the card button titled `title` in the last card that has one (an Action.Execute goes to
   * the bot; the card then shows the bot's refreshed card and "Your response was sent to the app").
   */
  async clickCardButton(title: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    const button = this.cards()
      .filter({ has: this.page.locator(SELECTORS.cardButton(title)) })
      .last()
      .locator(SELECTORS.cardButton(title))
      .first();
    try {
      await button.click({ timeout: timeoutMs });
    } catch {
      throw new Error(`No card button titled "${title}" within ${timeoutMs} ms. Cards shown:\n${await this.describeCards()}`);
    }
  }

  /** The visible text of every card in bot messages, oldest first. */
  async cardTexts(): Promise<string[]> {
    return (await this.cards().allInnerTexts()).map((t) => t.trim());
  }

  /** Saves a full-page PNG, creating the directory. */
  async screenshot(path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await this.page.screenshot({ path, fullPage: true });
  }

  /** Closes the browser and removes its profile directory. */
  async close(): Promise<void> {
    await this.browser.close();
  }

  private cards(): Locator {
    // Only bot messages render Adaptive Cards, in chats and in channel threads alike.
    return this.page.locator(SELECTORS.card);
  }

  private async describeCards(): Promise<string> {
    const texts = await this.cardTexts().catch(() => []);
    return texts.length === 0 ? '  (none)' : texts.map((t, i) => `  ${i}: ${t.replace(/\s+/g, ' ').slice(0, 160)}`).join('\n');
  }
}

function isLoopback(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  // data:, blob: and the like never leave the machine.
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:' && parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') return true;
  return ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
}

/** A CSS string literal (the attribute-selector value), quotes and backslashes escaped. */
function cssString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, failure: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(failure);
}
