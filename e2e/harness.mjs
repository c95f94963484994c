// The end-to-end harness: starts the real `conclave` binary on a free port with a fresh data
// folder, drives Debian's Chromium through playwright-core (never a downloaded browser), and
// saves a screenshot of every open page when a test fails.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const binary = process.env.CONCLAVE_BIN ?? join(root, 'target', 'debug', 'conclave');
export const clientDir = process.env.CONCLAVE_CLIENT_DIR ?? join(root, 'frontend', 'dist');
export const artifacts = process.env.E2E_ARTIFACTS ?? join(root, 'target', 'e2e-artifacts');
export const PASSWORD = 'correct horse battery staple';

/// One server process; `restart()` brings it back on the same address and data folder.
export class Server {
  /// `env` adds or overrides server settings (CONCLAVE_…).
  static async start(env = {}) {
    const server = new Server(mkdtempSync(join(tmpdir(), 'conclave-e2e-')), env);
    await server.spawn('127.0.0.1:0');
    return server;
  }

  constructor(dataDir, env) {
    this.dataDir = dataDir;
    this.env = env;
  }

  spawn(bind) {
    const env = {
      ...process.env,
      CONCLAVE_BIND: bind,
      CONCLAVE_DATA_DIR: this.dataDir,
      CONCLAVE_CLIENT_DIR: clientDir,
      CONCLAVE_LOG: process.env.CONCLAVE_LOG ?? 'error',
      // The tests sign in many users quickly from one address; the limits have tests of their own.
      CONCLAVE_LOGIN_BURST: '1000',
      CONCLAVE_LOGIN_PER_MINUTE: '1000',
      CONCLAVE_MESSAGE_BURST: '1000',
      CONCLAVE_MESSAGE_PER_SECOND: '1000',
      ...this.env,
    };
    this.process = spawn(binary, [], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    this.exited = new Promise((done) => this.process.once('exit', done));
    return new Promise((ready, fail) => {
      let seen = '';
      const onData = (chunk) => {
        seen += chunk;
        const found = seen.match(/listening on (http:\/\/\S+)/);
        if (found) {
          this.process.stdout.off('data', onData);
          this.process.stdout.resume();
          this.url = found[1];
          ready(this);
        }
      };
      this.process.stdout.setEncoding('utf8');
      this.process.stdout.on('data', onData);
      this.exited.then((code) => fail(new Error(`conclave exited (${code}) before listening: ${seen}`)));
    });
  }

  /// Stops the server as a deployment would (SIGTERM) and waits for it to exit.
  async stop() {
    if (this.process.exitCode === null) {
      this.process.kill('SIGTERM');
    }
    await this.exited;
  }

  /// Starts the server again on the same address and data folder.
  async restart() {
    await this.spawn(new URL(this.url).host);
  }

  async dispose() {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /// A REST call, for setting the scene faster than clicking.
  async api(method, path, { token, body } = {}) {
    const response = await fetch(this.url + path, {
      method,
      headers: {
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`${method} ${path}: ${response.status} ${text}`);
    }
    return text ? JSON.parse(text) : null;
  }

  /// A new session's access token for an existing user, for REST calls in their name.
  async token(username) {
    const login = await this.api('POST', '/api/auth/login', { body: { username, password: PASSWORD } });
    return login.access_token;
  }

  /// Signs a user up and logs them in through the API; answers the access token.
  async account(username) {
    await this.api('POST', '/api/auth/signup', { body: { username, password: PASSWORD } });
    const login = await this.api('POST', '/api/auth/login', { body: { username, password: PASSWORD } });
    return login.access_token;
  }
}

export const VIEWPORTS = { desktop: { width: 1280, height: 820 }, phone: { width: 390, height: 844 } };

/// A browser for one test, with fresh profiles per page, and screenshots when it fails.
export class Browser {
  static async launch() {
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    return new Browser(browser);
  }

  constructor(browser) {
    this.browser = browser;
    this.pages = [];
  }

  /// A page of its own (its own cookies: another person), failing the test on a client panic.
  async page(name, { viewport = VIEWPORTS.desktop, colorScheme = 'light' } = {}) {
    const context = await this.browser.newContext({ viewport, colorScheme });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    page.errors = [];
    page.on('pageerror', (error) => page.errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && message.text().includes('panicked')) {
        page.errors.push(message.text());
      }
    });
    page.on('dialog', (dialog) => dialog.accept());
    if (process.env.E2E_DEBUG_WS) {
      page.on('websocket', (ws) => {
        ws.on('framesent', (frame) => console.error(name, '>', String(frame.payload).slice(0, 200)));
        ws.on('framereceived', (frame) => console.error(name, '<', String(frame.payload).slice(0, 200)));
      });
    }
    this.pages.push({ name, page });
    return page;
  }

  /// Runs `body`; on failure saves a screenshot of each page into target/e2e-artifacts.
  async run(test, body) {
    try {
      await body();
      for (const { name, page } of this.pages) {
        if (page.errors.length) {
          throw new Error(`${name}'s page raised: ${page.errors.join('; ')}`);
        }
      }
    } catch (error) {
      mkdirSync(artifacts, { recursive: true });
      const slug = test.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
      for (const { name, page } of this.pages) {
        const path = join(artifacts, `${slug}-${name}.png`);
        await page.screenshot({ path, fullPage: true }).catch(() => {});
        console.error(`screenshot: ${path}`);
      }
      throw error;
    } finally {
      await this.browser.close();
    }
  }
}

/// Signs up through the pages and lands on the user's rooms.
export async function signUp(page, base, username) {
  await page.goto(base + '/signup');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL(`${base}/u/${username}`);
  await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
}

/// Logs in through the pages.
export async function logIn(page, username) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/// Sends a message from the composer with Enter.
export async function say(page, text) {
  const box = page.getByLabel('Message');
  await box.fill(text);
  await box.press('Enter');
}
