/**
 * Ctrl+C as a user presses it: the real `deno task` on a pseudo-terminal,
 * the interrupt key written to the terminal, so the kernel signals the whole
 * foreground process group.
 *
 * Regression (newcomer trial B2): one keypress under `deno task` delivered
 * SIGINT twice, once from the terminal to the process group and once
 * forwarded by `deno task`, 1-2 ms apart; lib/net/shutdown_signals.ts took
 * the second as "Ctrl+C again", exited 130 and skipped the summary. The
 * tests that signalled one `deno run` PID never saw it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { BufferedReader } from "../../lib/io/buffered_reader.ts";
import { writeAll } from "../../lib/io/write_all.ts";
import { decodeMessage, encodeMessage } from "../../lib/file_transfer/file_transfer_protocol.ts";
import { NO_PTY, startOnPty } from "../helpers/pty_process.ts";

const DENO = Deno.execPath();
const LISTENING = /listening on (?:\w+:\/\/)?(?:\[[^\]]+\]|[^\s:]+):(\d+)/;

function portOf(line: string): number {
  return Number(line.match(LISTENING)![1]);
}

function assertNoForcedExit(lines: string[]): void {
  assert.ok(
    !lines.some((line) => /second Ctrl\+C/.test(line)),
    `one keypress was taken as two:\n${lines.join("\n")}`,
  );
}

Deno.test({
  name: "deno task echo-server: one Ctrl+C with a client connected shuts down gracefully, exit 0",
  ignore: NO_PTY,
  async fn() {
    await using pty = startOnPty(DENO, ["task", "echo-server", "--port", "0"]);
    const port = portOf(await pty.waitForLine(LISTENING));
    using conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode("hi\n"));
    const echoed = new Uint8Array(3);
    assert.equal(await conn.read(echoed), 3);
    await pty.pressCtrlC();
    // The server closes our connection as it shuts down.
    assert.equal(await conn.read(new Uint8Array(16)).catch(() => null), null);
    assert.equal(await pty.status, 0, pty.lines.join("\n"));
    assertNoForcedExit(pty.lines);
    assert.ok(
      pty.lines.some((line) => /info +shut down: served 1 connection, echoed 3 bytes/.test(line)),
      pty.lines.join("\n"),
    );
  },
});

Deno.test({
  name: "deno task udp-server: one Ctrl+C after an echo prints the summary and exits 0",
  ignore: NO_PTY,
  async fn() {
    await using pty = startOnPty(DENO, ["task", "udp-server", "--port", "0"]);
    const port = portOf(await pty.waitForLine(LISTENING));
    const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    try {
      await socket.send(new TextEncoder().encode("ping"), {
        transport: "udp",
        hostname: "127.0.0.1",
        port,
      });
      const [reply] = await socket.receive();
      assert.equal(new TextDecoder().decode(reply), "ping");
    } finally {
      socket.close();
    }
    await pty.pressCtrlC();
    assert.equal(await pty.status, 0, pty.lines.join("\n"));
    assertNoForcedExit(pty.lines);
    assert.ok(
      pty.lines.some((line) => /info +shut down: received 1, echoed 1/.test(line)),
      pty.lines.join("\n"),
    );
  },
});

Deno.test({
  name: "deno task file-receive: one Ctrl+C during a transfer shuts down gracefully, exit 0",
  ignore: NO_PTY,
  async fn() {
    // The task saves into received/; a unique name, and its .part removed after.
    const name = `ctrl-c-test-${crypto.randomUUID()}.bin`;
    const part = new URL(`../../received/.${name}.part`, import.meta.url);
    try {
      await using pty = startOnPty(DENO, ["task", "file-receive", "--port", "0"]);
      const port = portOf(await pty.waitForLine(LISTENING));
      using conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await writeAll(
        conn,
        encodeMessage({ type: "file", version: 1, name, size: 1 << 20 }),
      );
      // The resume frame: 4-byte length, then that much JSON.
      const reader = new BufferedReader(conn);
      const frame = await reader.readFrame({ maxFrameSize: 16_384 });
      assert.ok(frame, "the receiver closed before answering the header");
      const resume = decodeMessage(frame, ["resume"]);
      assert.equal(resume.offset, 0);
      await writeAll(conn, encodeMessage({ type: "start", offset: 0 }));
      await writeAll(conn, new Uint8Array(64 * 1024));
      await pty.waitForLine(/receiving ctrl-c-test/);
      await pty.pressCtrlC();
      assert.equal(await pty.status, 0, pty.lines.join("\n"));
      assertNoForcedExit(pty.lines);
      assert.ok(
        pty.lines.some((line) => /info +shut down: saved 0 files, 1 unsaved/.test(line)),
        pty.lines.join("\n"),
      );
    } finally {
      await Deno.remove(part).catch(() => {});
    }
  },
});

Deno.test({
  name: "deno task echo-server: SIGTERM shuts down without offering Ctrl+C to force",
  ignore: NO_PTY,
  async fn() {
    await using pty = startOnPty(DENO, ["task", "echo-server", "--port", "0"]);
    await pty.waitForLine(LISTENING);
    await pty.sendSigterm();
    assert.equal(await pty.status, 0, pty.lines.join("\n"));
    const line = await pty.waitForLine(/SIGTERM: shutting down/);
    assert.doesNotMatch(line, /Ctrl\+C/);
  },
});

Deno.test({
  name: "a deliberate second Ctrl+C, well after the first, still forces exit 130",
  ignore: NO_PTY,
  async fn() {
    await using pty = startOnPty(DENO, ["run", "tests/fixtures/slow_shutdown.ts"]);
    await pty.waitForLine(/^ready$/);
    await pty.pressCtrlC();
    await pty.waitForLine(/SIGINT: shutting down \(Ctrl\+C again to force\)/);
    // Not synchronisation: "deliberate" means later than the 250 ms within
    // which a second SIGINT is taken as the same keypress.
    await new Promise((resolve) => setTimeout(resolve, 400));
    await pty.pressCtrlC();
    assert.equal(await pty.status, 130, pty.lines.join("\n"));
    await pty.waitForLine(/second Ctrl\+C: exiting without waiting/);
  },
});

Deno.test({
  name: "deno task ws-server: one Ctrl+C with a WebSocket client connected exits 0",
  ignore: NO_PTY,
  async fn() {
    await using pty = startOnPty(DENO, ["task", "ws-server", "--port", "0"]);
    const port = portOf(await pty.waitForLine(LISTENING));
    const socket = new WebSocket(`ws://127.0.0.1:${port}/echo`);
    const closed = new Promise<CloseEvent>((resolve) => socket.onclose = resolve);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = reject;
    });
    await pty.pressCtrlC();
    // The server says goodbye with Close 1001 (going away).
    assert.equal((await closed).code, 1001);
    assert.equal(await pty.status, 0, pty.lines.join("\n"));
    assertNoForcedExit(pty.lines);
  },
});

Deno.test({
  name: "deno task chat-server: one Ctrl+C with a member connected exits 0",
  ignore: NO_PTY,
  async fn() {
    await using pty = startOnPty(DENO, ["task", "chat-server", "--port", "0", "--http-port", "0"]);
    const port = portOf(await pty.waitForLine(LISTENING));
    using conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode("erin\n"));
    await pty.waitForLine(/connected/);
    await pty.pressCtrlC();
    assert.equal(await pty.status, 0, pty.lines.join("\n"));
    assertNoForcedExit(pty.lines);
  },
});
