import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { startTestServer, type TestServer } from '../../support/server.js';

/**
 * GraphiQL in a real headless Chromium with no network but loopback (issue #14): a page that
 * loads its assets from a CDN stays on "Loading…" forever there. The test needs Debian's
 * `chromium` (installed by .ci/run); GraphiQL does not depend on the backend, so it runs once,
 * in the embedded project.
 */
const CHROMIUM = '/usr/bin/chromium';
const runs = existsSync(CHROMIUM) && process.env['TEST_BACKEND'] !== 'services';
if (!existsSync(CHROMIUM)) {
  console.warn(`graphiql-browser.test.ts: skipped, ${CHROMIUM} is not installed`);
}

/** A minimal Chrome DevTools Protocol session over one page's WebSocket. */
class CdpPage {
  private nextId = 1;
  private readonly pending = new Map<number, (message: CdpMessage) => void>();
  private readonly listeners: Array<(message: CdpMessage) => void> = [];

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as CdpMessage;
      if (message.id !== undefined) this.pending.get(message.id)?.(message);
      else for (const listener of this.listeners) listener(message);
    });
  }

  static async connect(url: string) {
    const socket = new WebSocket(url);
    await once(socket, 'open');
    return new CdpPage(socket);
  }

  async send(method: string, params: Record<string, unknown> = {}): Promise<CdpResult> {
    const id = this.nextId++;
    const answered = new Promise<CdpMessage>((resolve) => this.pending.set(id, resolve));
    this.socket.send(JSON.stringify({ id, method, params }));
    const message = await answered;
    this.pending.delete(id);
    if (message.error) throw new Error(`${method}: ${message.error.message}`);
    return message.result ?? {};
  }

  on(listener: (message: CdpMessage) => void) {
    this.listeners.push(listener);
  }

  /** Evaluates an expression (awaiting a promise) in the page and returns its JSON value. */
  async evaluate<T>(expression: string): Promise<T> {
    const result = await this.send('Runtime.evaluate', {
      expression,
      awaitPromise: true,
      returnByValue: true,
    });
    const evaluated = result as { result: { value: T }; exceptionDetails?: { text: string } };
    if (evaluated.exceptionDetails) throw new Error(evaluated.exceptionDetails.text);
    return evaluated.result.value;
  }

  close() {
    this.socket.close();
  }
}

type CdpResult = Record<string, unknown>;
interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: CdpResult;
  error?: { message: string };
}

/** Starts headless Chromium whose every non-loopback request fails (proxy and DNS). */
async function startChromium(profileDir: string) {
  const browser = spawn(
    CHROMIUM,
    [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--remote-debugging-port=0',
      `--user-data-dir=${profileDir}`,
      // Loopback bypasses a proxy implicitly; everything else goes to a closed port.
      '--proxy-server=127.0.0.1:9',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  const endpoint = await new Promise<string>((resolve, reject) => {
    browser.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
      if (match) resolve(match[1]!);
    });
    browser.once('exit', (code) => reject(new Error(`chromium exited (${code}): ${stderr}`)));
  });
  const { port } = new URL(endpoint);
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{
    type: string;
    webSocketDebuggerUrl: string;
  }>;
  const page = targets.find((target) => target.type === 'page');
  if (!page) throw new Error('chromium opened no page');
  return { browser, page: await CdpPage.connect(page.webSocketDebuggerUrl) };
}

describe.runIf(runs)('GraphiQL offline in headless Chromium (issue #14)', () => {
  let server: TestServer;
  let browser: ChildProcess | undefined;
  let page: CdpPage;
  let profileDir: string;
  const requested: string[] = [];

  beforeAll(async () => {
    server = await startTestServer({ env: { DAEMON_ENABLED: 'false' } });
    profileDir = mkdtempSync(path.join(tmpdir(), 'agentgraph-chromium-'));
    ({ browser, page } = await startChromium(profileDir));
    page.on((message) => {
      if (message.method === 'Network.requestWillBeSent') {
        requested.push((message.params!['request'] as { url: string }).url);
      }
    });
    await page.send('Network.enable');
    await page.send('Page.enable');
  });
  afterAll(async () => {
    page?.close();
    if (browser && browser.exitCode === null) {
      browser.kill('SIGKILL');
      await once(browser, 'exit');
    }
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    await server?.close();
  });

  it('renders with its first-session document and runs a query that returns data', async () => {
    const loaded = new Promise<void>((resolve) =>
      page.on((message) => {
        if (message.method === 'Page.loadEventFired') resolve();
      }),
    );
    await page.send('Page.navigate', { url: server.url });
    await loaded;

    // Resolves once GraphiQL's editors are in the DOM (a MutationObserver, no polling).
    const rendered = await page.evaluate<{ title: string; text: string }>(`
      new Promise((resolve, reject) => {
        const done = () => document.querySelector('.graphiql-container .graphiql-editors');
        const finish = () =>
          resolve({ title: document.title, text: document.body.innerText.replace(/\u00a0/g, ' ') });
        if (done()) return finish();
        const observer = new MutationObserver(() => {
          if (done()) { observer.disconnect(); finish(); }
        });
        observer.observe(document.body, { childList: true, subtree: true });
        setTimeout(() => reject(new Error('GraphiQL did not render: ' + document.body.innerText.slice(0, 200))), 30000);
      })
    `);
    expect(rendered.title).toBe('agentgraph GraphiQL');
    expect(rendered.text).not.toMatch(/^\s*Loading/);
    expect(rendered.text).toContain('query FirstLook');

    // The page's own fetch, as GraphiQL sends it: a JSON POST with the Authorization header the
    // first-session document tells the user to set (which also satisfies the CSRF check).
    const answer = await page.evaluate<{ status: number; body: { data?: unknown } }>(`
      fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer ${server.env['BOOTSTRAP_ADMIN_TOKEN']}' },
        body: JSON.stringify({ query: '{ viewer { username role } }' }),
      }).then(async (response) => ({ status: response.status, body: await response.json() }))
    `);
    expect(answer).toEqual({
      status: 200,
      body: { data: { viewer: { username: 'admin', role: 'ADMIN' } } },
    });

    const origin = new URL(server.url).origin;
    const external = requested.filter(
      (url) => !url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('blob:'),
    );
    expect(external).toEqual([]);
  });
});
