/**
 * Shared pieces of the UDP tests: spawning the scripts, external tools,
 * bounded receives, and a lossy relay.
 *
 * @module
 */

import { join } from "node:path";
import { decodeEchoProbe } from "../../lib/udp/echo_probe.ts";

/** The project root, so spawned scripts pick up deno.json. */
export const ROOT: string = join(import.meta.dirname!, "..", "..");

/** Opens a UDP socket on an ephemeral port. */
export function udpSocket(hostname = "127.0.0.1"): Deno.DatagramConn {
  return Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
}

/**
 * Receives one datagram, or throws after `ms`. A pending receive can only be
 * cancelled by closing the socket, so a timeout closes it.
 */
export async function receiveWithin(
  socket: Deno.DatagramConn,
  ms = 5000,
  buffer?: Uint8Array,
): Promise<[Uint8Array, Deno.NetAddr]> {
  const timer = setTimeout(() => socket.close(), ms);
  try {
    const [data, addr] = await socket.receive(buffer);
    return [data, addr as Deno.NetAddr];
  } catch (error) {
    throw new Error(`no datagram within ${ms} ms`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * True when `tool` is on PATH. Absent tools skip their tests, except under
 * CI=true, where an absent tool is a failure.
 */
export async function haveTool(tool: string): Promise<boolean> {
  const found = await new Deno.Command("sh", {
    args: ["-c", `command -v ${tool}`],
    stdout: "null",
    stderr: "null",
  }).output().then((out) => out.success, () => false);
  if (!found && Deno.env.get("CI") === "true") {
    throw new Error(`${tool} is not installed, and CI=true requires it (apt-get install ${tool})`);
  }
  return found;
}

/** Collects a stream's text and lets a test wait until it contains something. */
export class TextCollector {
  text = "";
  /** Resolves when the stream ends. */
  readonly done: Promise<void>;
  #waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = (async () => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        this.text += chunk;
        this.#waiters = this.#waiters.filter(({ pattern, resolve }) => {
          const match = this.text.match(pattern);
          if (match) resolve(match);
          return !match;
        });
      }
    })();
  }

  /** Resolves with the first match of `pattern`, or rejects after `ms` or at the end of the stream. */
  async waitFor(pattern: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
    const match = this.text.match(pattern);
    if (match) return match;
    const { promise, resolve } = Promise.withResolvers<RegExpMatchArray>();
    this.#waiters.push({ pattern, resolve });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const failure = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${pattern} in: ${this.text}`)),
        ms,
      );
      this.done.then(() =>
        reject(new Error(`stream ended without ${pattern}; it said: ${this.text}`))
      );
    });
    try {
      return await Promise.race([promise, failure]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A spawned process with its output collected. */
export interface Spawned {
  child: Deno.ChildProcess;
  stdout: TextCollector;
  stderr: TextCollector;
  /** Waits for the exit and for all output. */
  finish(): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Spawns a program with piped stdio and collects its output. */
export function spawn(command: string, args: string[], stdin: "piped" | "null" = "null"): Spawned {
  const child = new Deno.Command(command, {
    args,
    cwd: ROOT,
    stdin,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stdout = new TextCollector(child.stdout);
  const stderr = new TextCollector(child.stderr);
  return {
    child,
    stdout,
    stderr,
    async finish() {
      const [status] = await Promise.all([child.status, stdout.done, stderr.done]);
      return { code: status.code, stdout: stdout.text, stderr: stderr.text };
    },
  };
}

/** Spawns one of our scripts with `deno run --unstable-net` and the given permissions. */
export function spawnScript(
  script: string,
  args: string[],
  options: { allowNet?: string; stdin?: "piped" | "null" } = {},
): Spawned {
  return spawn(Deno.execPath(), [
    "run",
    "--unstable-net",
    `--allow-net=${options.allowNet ?? "127.0.0.1"}`,
    `scripts/${script}`,
    ...args,
  ], options.stdin ?? "null");
}

/** Writes `text` to a child's stdin and closes it. */
export async function writeAndClose(child: Deno.ChildProcess, text: string): Promise<void> {
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
}

/** What the relay should do to the traffic, by 1-based position. */
export interface RelayPlan {
  /** Drop every Nth request from the client (0 = never). */
  dropEvery: number;
  /** Also drop these requests (1-based, in arrival order). */
  dropRequests?: ReadonlySet<number>;
  /** Replies (by arrival order from the server) sent twice. */
  duplicate: ReadonlySet<number>;
  /** Replies held back and sent just after the next reply. */
  reorder: ReadonlySet<number>;
}

/** What the relay did. */
export interface RelayRecord {
  forwarded: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  /** Sequence numbers (of echo probes) of the dropped requests. */
  droppedSeqs: number[];
}

/**
 * A UDP relay between one client and one server on loopback that drops,
 * duplicates and reorders datagrams to a fixed plan and records what it did.
 * Its decisions depend only on datagram order, never on timing.
 */
export class LossyRelay implements AsyncDisposable {
  readonly record: RelayRecord = {
    forwarded: 0,
    dropped: 0,
    duplicated: 0,
    reordered: 0,
    droppedSeqs: [],
  };
  readonly addr: Deno.NetAddr;
  #socket: Deno.DatagramConn;
  #server: Deno.NetAddr;
  #plan: RelayPlan;
  #client: Deno.NetAddr | null = null;
  #held: Uint8Array | null = null;
  #requests = 0;
  #replies = 0;
  #loop: Promise<void>;

  constructor(server: Deno.NetAddr, plan: RelayPlan) {
    this.#server = server;
    this.#plan = plan;
    this.#socket = udpSocket(server.hostname);
    this.addr = this.#socket.addr as Deno.NetAddr;
    this.#loop = this.#run();
  }

  /** True while a reply is held back for reordering. */
  get holding(): boolean {
    return this.#held !== null;
  }

  async #run(): Promise<void> {
    for (;;) {
      let data: Uint8Array;
      let from: Deno.NetAddr;
      try {
        const [d, a] = await this.#socket.receive();
        data = d;
        from = a as Deno.NetAddr;
      } catch {
        return; // closed
      }
      const fromServer = from.hostname === this.#server.hostname &&
        from.port === this.#server.port;
      if (!fromServer) {
        this.#client = from;
        this.#requests++;
        const dropped = (this.#plan.dropEvery > 0 && this.#requests % this.#plan.dropEvery === 0) ||
          this.#plan.dropRequests?.has(this.#requests);
        if (dropped) {
          this.record.dropped++;
          this.record.droppedSeqs.push(decodeEchoProbe(data)?.seq ?? -1);
          continue;
        }
        this.record.forwarded++;
        await this.#socket.send(data, this.#server);
        continue;
      }
      if (!this.#client) continue;
      this.#replies++;
      if (this.#plan.reorder.has(this.#replies) && this.#held === null) {
        this.#held = data;
        continue;
      }
      await this.#socket.send(data, this.#client);
      if (this.#plan.duplicate.has(this.#replies)) {
        this.record.duplicated++;
        await this.#socket.send(data, this.#client);
      }
      if (this.#held) {
        const held = this.#held;
        this.#held = null;
        this.record.reordered++;
        await this.#socket.send(held, this.#client);
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#socket.close();
    await this.#loop;
  }
}
