/**
 * Test helper: headless Chromium driven over the Chrome DevTools Protocol (CDP), with the
 * runtime's own `WebSocket` as the CDP client; no third-party packages.
 *
 * Chromium is started with `--remote-debugging-port=0` and a fresh `--user-data-dir`; it prints
 * `DevTools listening on ws://...` on stderr, and every command goes over that one WebSocket
 * (pages are attached with `flatten: true`, so their commands carry a `sessionId`). Every wait
 * is bounded; disposing the browser closes it (killing it if it does not exit), drains its
 * output and removes the profile directory.
 *
 * ```ts ignore
 * await using browser = await launchChromium();
 * const page = await browser.newPage();
 * await page.navigate("http://127.0.0.1:8002/");
 * await page.waitFor(`document.querySelector("#state").dataset.state === "online"`);
 * ```
 *
 * @module
 */

/** How long a CDP command, a page load or a launch may take by default. */
const DEFAULT_TIMEOUT_MS = 15_000;

/** The flags that keep a headless Chromium quiet and offline here (see ../shared/NOTES.md). */
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--remote-debugging-port=0",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-extensions",
  "--mute-audio",
];

/** Options for {@linkcode launchChromium}. */
export interface LaunchChromiumOptions {
  /** The executable, default `chromium`. */
  command?: string;
  /** How long to wait for the DevTools endpoint, default 15 s. */
  timeoutMs?: number;
  /** More command-line flags, such as `--host-resolver-rules=MAP rebind.test 127.0.0.1`. */
  args?: string[];
}

interface CdpReply {
  id: number;
  result?: unknown;
  error?: { code: number; message: string };
}

interface CdpEvent {
  method: string;
  params: Record<string, unknown>;
  sessionId?: string;
}

/** A CDP connection: numbered commands whose replies are matched by id, and events. */
class CdpConnection {
  #ws: WebSocket;
  #nextId = 1;
  #pending = new Map<number, PromiseWithResolvers<unknown> & { method: string }>();
  #listeners = new Set<(event: CdpEvent) => void>();
  #closed: Promise<void>;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#closed = promise;
    ws.onmessage = (event) => {
      const message = JSON.parse(event.data as string) as CdpReply | CdpEvent;
      if ("id" in message) {
        const waiter = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.error) {
          waiter?.reject(new Error(`CDP ${waiter.method} failed: ${message.error.message}`));
        } else waiter?.resolve(message.result);
      } else {
        for (const listener of [...this.#listeners]) listener(message);
      }
    };
    ws.onclose = () => {
      for (const waiter of this.#pending.values()) {
        waiter.reject(new Error(`CDP ${waiter.method}: the DevTools connection closed`));
      }
      this.#pending.clear();
      resolve();
    };
  }

  static async open(url: string, timeoutMs: number): Promise<CdpConnection> {
    const ws = new WebSocket(url);
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`Cannot connect to DevTools at ${url}`));
    const timer = setTimeout(() => {
      reject(new Error(`Cannot connect to DevTools at ${url}: no answer in ${timeoutMs} ms`));
      ws.close();
    }, timeoutMs);
    try {
      await promise;
    } catch (error) {
      // Wait for the close event so that the socket's resources are gone when we throw.
      if (ws.readyState !== WebSocket.CLOSED) {
        await new Promise((done) => ws.addEventListener("close", done, { once: true }));
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return new CdpConnection(ws);
  }

  /** Sends a command and waits (at most `timeoutMs`) for its reply. */
  async send<T = unknown>(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): Promise<T> {
    const id = this.#nextId++;
    const waiter = { ...Promise.withResolvers<unknown>(), method };
    this.#pending.set(id, waiter);
    this.#ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    const timer = setTimeout(() => {
      this.#pending.delete(id);
      waiter.reject(new Error(`CDP ${method}: no reply within ${timeoutMs} ms`));
    }, timeoutMs);
    try {
      return await waiter.promise as T;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Resolves with the first event named `method` (for `sessionId`, if given) that satisfies
   * `predicate`, or rejects after `timeoutMs`. Start waiting before the command that causes it.
   */
  waitForEvent(
    method: string,
    options: {
      sessionId?: string;
      predicate?: (params: Record<string, unknown>) => boolean;
      timeoutMs?: number;
    } = {},
  ): Promise<Record<string, unknown>> {
    const { sessionId, predicate, timeoutMs = DEFAULT_TIMEOUT_MS } = options;
    const { promise, resolve, reject } = Promise.withResolvers<Record<string, unknown>>();
    const listener = (event: CdpEvent) => {
      if (event.method !== method) return;
      if (sessionId !== undefined && event.sessionId !== sessionId) return;
      if (predicate && !predicate(event.params)) return;
      done();
      resolve(event.params);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`No CDP event ${method} within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      this.#listeners.delete(listener);
    };
    this.#listeners.add(listener);
    return promise;
  }

  /** Calls `listener` for every event until the returned function is called. */
  onEvent(listener: (event: CdpEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Closes the connection and waits for the close event. */
  async close(): Promise<void> {
    if (this.#ws.readyState !== WebSocket.CLOSED) this.#ws.close();
    await this.#closed;
  }
}

/** One tab, attached over CDP. */
export class ChromiumPage {
  readonly #cdp: CdpConnection;
  /** The CDP session of this tab. */
  readonly sessionId: string;
  /** Messages the page logged with `console.*`, and uncaught exceptions, for diagnostics. */
  readonly console: string[] = [];

  constructor(cdp: CdpConnection, sessionId: string) {
    this.#cdp = cdp;
    this.sessionId = sessionId;
    cdp.onEvent((event) => {
      if (event.sessionId !== sessionId) return;
      if (event.method === "Runtime.consoleAPICalled") {
        const args = event.params.args as { value?: unknown; description?: string }[];
        this.console.push(args.map((arg) => String(arg.value ?? arg.description)).join(" "));
      } else if (event.method === "Runtime.exceptionThrown") {
        const details = event.params.exceptionDetails as {
          text: string;
          exception?: {
            description?: string;
          };
        };
        this.console.push(`uncaught: ${details.exception?.description ?? details.text}`);
      }
    });
  }

  /** Sends a CDP command to this tab. */
  send<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    return this.#cdp.send<T>(method, params, this.sessionId);
  }

  /**
   * Resolves with the next event of this tab named `method` that satisfies `predicate`; start
   * waiting before the action that causes it.
   */
  waitForEvent(
    method: string,
    predicate?: (params: Record<string, unknown>) => boolean,
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): Promise<Record<string, unknown>> {
    return this.#cdp.waitForEvent(method, { sessionId: this.sessionId, predicate, timeoutMs });
  }

  /** Loads `url` and waits for its load event. */
  async navigate(url: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    const loaded = this.#cdp.waitForEvent("Page.loadEventFired", {
      sessionId: this.sessionId,
      timeoutMs,
    });
    const result = await this.send<{ errorText?: string }>("Page.navigate", { url });
    if (result.errorText) {
      loaded.catch(() => {});
      throw new Error(`Cannot load ${url}: ${result.errorText}`);
    }
    await loaded;
  }

  /**
   * Evaluates a JavaScript expression in the page (awaiting it if it is a promise) and returns
   * its value, which must be JSON-serialisable.
   *
   * @throws {Error} If the expression throws; the message carries the page's exception.
   */
  async evaluate<T = unknown>(expression: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
    const reply = await this.#cdp.send<{
      result: { value?: unknown };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    }>(
      "Runtime.evaluate",
      { expression, awaitPromise: true, returnByValue: true },
      this.sessionId,
      timeoutMs + 1_000,
    );
    if (reply.exceptionDetails) {
      const { text, exception } = reply.exceptionDetails;
      const logged = this.console.length > 0 ? `\npage console:\n${this.console.join("\n")}` : "";
      throw new Error(`Page threw: ${exception?.description ?? text}${logged}`);
    }
    return reply.result.value as T;
  }

  /**
   * Waits until `expression` is truthy in the page, re-checking whenever the DOM changes (a
   * MutationObserver, no polling), and returns its value. Rejects after `timeoutMs` with the
   * expression in the message.
   */
  waitFor<T = unknown>(expression: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
    return this.evaluate<T>(
      `new Promise((resolve, reject) => {
        const check = () => {
          let value;
          try { value = (${expression}); } catch { return; }
          if (value) { finish(); resolve(value); }
        };
        const observer = new MutationObserver(check);
        const timer = setTimeout(() => {
          finish();
          reject(new Error("timed out after ${timeoutMs} ms waiting for: " + ${
        JSON.stringify(expression)
      }));
        }, ${timeoutMs});
        const finish = () => { observer.disconnect(); clearTimeout(timer); };
        observer.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
        check();
      })`,
      timeoutMs,
    );
  }

  /** Focuses the element matching `selector` and types `text` into it, as a user would. */
  async type(selector: string, text: string): Promise<void> {
    await this.evaluate(`document.querySelector(${JSON.stringify(selector)}).focus()`);
    await this.send("Input.insertText", { text });
  }

  /** Presses Enter in the focused element (submits a form). */
  async pressEnter(): Promise<void> {
    const key = { key: "Enter", code: "Enter", windowsVirtualKeyCode: 13 };
    await this.send("Input.dispatchKeyEvent", { type: "keyDown", text: "\r", ...key });
    await this.send("Input.dispatchKeyEvent", { type: "keyUp", ...key });
  }

  /** Sets the viewport, e.g. a phone's 390 × 760 CSS pixels at device scale 2. */
  async setViewport(width: number, height: number, deviceScaleFactor = 1): Promise<void> {
    await this.send("Emulation.setDeviceMetricsOverride", {
      width,
      height,
      deviceScaleFactor,
      mobile: width < 700,
    });
  }

  /** Takes a PNG screenshot of the viewport and writes it to `path`. */
  async screenshot(path: string): Promise<void> {
    const { data } = await this.send<{ data: string }>("Page.captureScreenshot", {
      format: "png",
    });
    const bytes = Uint8Array.from(atob(data), (char) => char.charCodeAt(0));
    await Deno.writeFile(path, bytes);
  }
}

/** A headless Chromium; `await using` closes it and removes its profile. */
export class Chromium implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #cdp: CdpConnection;
  readonly #profile: string;
  readonly #stderr: Promise<string>;
  #disposed = false;

  private constructor(
    child: Deno.ChildProcess,
    cdp: CdpConnection,
    profile: string,
    stderr: Promise<string>,
  ) {
    this.#child = child;
    this.#cdp = cdp;
    this.#profile = profile;
    this.#stderr = stderr;
  }

  /** Starts Chromium; see {@linkcode launchChromium}. */
  static async launch(options: LaunchChromiumOptions = {}): Promise<Chromium> {
    const { command = "chromium", timeoutMs = DEFAULT_TIMEOUT_MS, args = [] } = options;
    const profile = await Deno.makeTempDir({ prefix: "chromium_profile_" });
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(command, {
        args: [...CHROMIUM_FLAGS, ...args, `--user-data-dir=${profile}`, "about:blank"],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      await Deno.remove(profile, { recursive: true }).catch(() => {});
      throw error;
    }
    // Keep reading stderr to the end (a full pipe would block Chromium), keeping its head and
    // the DevTools URL.
    const endpoint = Promise.withResolvers<string>();
    const stderr = (async () => {
      let head = "";
      let found = false;
      for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
        if (head.length < 16_384) head += text;
        const match = !found && head.match(/DevTools listening on (ws:\/\/\S+)/);
        if (match) {
          found = true;
          endpoint.resolve(match[1]!);
        }
      }
      endpoint.reject(new Error(`Chromium exited before DevTools was ready:\n${head}`));
      return head;
    })();
    let cdp: CdpConnection | undefined;
    try {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const url = await Promise.race([
        endpoint.promise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`Chromium printed no DevTools URL within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      cdp = await CdpConnection.open(url, timeoutMs);
      return new Chromium(child, cdp, profile, stderr);
    } catch (error) {
      endpoint.promise.catch(() => {});
      await cdp?.close();
      killQuietly(child);
      await child.status;
      await stderr.catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
      throw error;
    }
  }

  /** Opens a new tab (about:blank), attached, with page and runtime events enabled. */
  async newPage(): Promise<ChromiumPage> {
    const { targetId } = await this.#cdp.send<{ targetId: string }>("Target.createTarget", {
      url: "about:blank",
    });
    const { sessionId } = await this.#cdp.send<{ sessionId: string }>("Target.attachToTarget", {
      targetId,
      flatten: true,
    });
    const page = new ChromiumPage(this.#cdp, sessionId);
    await page.send("Page.enable");
    await page.send("Runtime.enable");
    return page;
  }

  /**
   * Closes the browser: asks it to exit (Browser.close), kills it if it has not within 5 s,
   * then removes its profile directory.
   */
  async close(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await this.#cdp.send("Browser.close", {}, undefined, 5_000).catch(() => {});
      const exited = await Promise.race([
        this.#child.status.then(() => true),
        new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), 5_000)),
      ]);
      if (!exited) killQuietly(this.#child);
    } finally {
      clearTimeout(timer);
      await this.#cdp.close();
      await this.#child.status;
      await this.#stderr.catch(() => {});
      await Deno.remove(this.#profile, { recursive: true }).catch(() => {});
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Starts headless Chromium with a fresh profile and connects to it over CDP.
 *
 * @throws {Error} If Chromium cannot be started or prints no DevTools URL in time; Chromium is
 * killed and its profile removed first.
 */
export function launchChromium(options: LaunchChromiumOptions = {}): Promise<Chromium> {
  return Chromium.launch(options);
}

function killQuietly(child: Deno.ChildProcess): void {
  try {
    child.kill("SIGKILL");
  } catch {
    // It has exited already.
  }
}
