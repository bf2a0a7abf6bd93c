import assert from "node:assert/strict";
import { ChatHub } from "../../lib/chat/chat_hub.ts";
import type { ChatHubOptions } from "../../lib/chat/chat_hub_options.ts";
import type { ChatMember, ChatSession } from "../../lib/chat/chat_session.ts";
import type { ChatLine } from "../../lib/chat/chat_line.ts";

/** An in-memory member: records what it was sent and whether it was closed. */
class FakeMember implements ChatMember {
  lines: string[] = [];
  closedWith: string | null | undefined = undefined; // undefined: open; null: closed silently
  send(line: ChatLine): void {
    assert.equal(this.closedWith, undefined, `sent after close: ${line.text}`);
    this.lines.push(line.text);
  }
  close(finalLine?: ChatLine): void {
    assert.equal(this.closedWith, undefined, "closed twice");
    this.closedWith = finalLine?.text ?? null;
  }
  /** Returns and forgets the lines received so far. */
  take(): string[] {
    const lines = this.lines;
    this.lines = [];
    return lines;
  }
}

const NOON = Date.UTC(2026, 0, 1, 12, 30);

function makeHub(options: ChatHubOptions = {}): ChatHub {
  // Local time formatting: pin the clock and compute what the hub prints.
  return new ChatHub({ registrationTimeout: 0, now: () => NOON, ...options });
}
const TIME = (() => {
  const d = new Date(NOON);
  return `[${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}]`;
})();

function join(hub: ChatHub, nick: string): { member: FakeMember; session: ChatSession } {
  const member = new FakeMember();
  const session = hub.connect(member);
  session.receive(nick);
  assert.equal(session.nick, nick, member.lines.join("\n"));
  member.take();
  return { member, session };
}

Deno.test("ChatHub greets a new member, takes the first line as its nick and puts it in #lobby", () => {
  const hub = makeHub();
  const member = new FakeMember();
  const session = hub.connect(member);
  assert.match(member.take()[0]!, /^\*\*\* Welcome/);
  session.receive("alice");
  assert.deepEqual(member.take(), [
    "*** You are alice. /help lists the commands",
    `${TIME} *** alice joined #lobby (1 here)`,
  ]);
  assert.equal(session.room, "lobby");
  hub.close();
});

Deno.test("ChatHub relays a message to every other member of the room, stamped with time and nick", () => {
  const hub = makeHub();
  const alice = join(hub, "alice");
  const bob = join(hub, "bob");
  const carol = join(hub, "carol");
  alice.member.take();
  bob.member.take();
  alice.session.receive("hello  world ");
  assert.deepEqual(bob.member.take(), [`${TIME} <alice> hello  world`]);
  assert.deepEqual(carol.member.take(), [`${TIME} <alice> hello  world`]);
  assert.deepEqual(alice.member.take(), [], "no echo to the sender");
  alice.session.receive("/me waves");
  assert.deepEqual(bob.member.take(), [`${TIME} * alice waves`]);
  alice.session.receive("//slash at the start");
  assert.deepEqual(carol.member.take(), [
    `${TIME} * alice waves`,
    `${TIME} <alice> /slash at the start`,
  ]);
  hub.close();
});

Deno.test("ChatHub keeps rooms apart and announces joins and leaves", () => {
  const hub = makeHub();
  const alice = join(hub, "alice");
  const bob = join(hub, "bob");
  alice.member.take();
  bob.session.receive("/join #Games");
  assert.equal(bob.session.room, "games");
  assert.deepEqual(alice.member.take(), [`${TIME} *** bob left #lobby (joined #games)`]);
  assert.deepEqual(bob.member.take(), [`${TIME} *** bob joined #games (1 here)`]);
  alice.session.receive("only for the lobby");
  assert.deepEqual(bob.member.take(), []);
  bob.session.receive("/join games");
  assert.deepEqual(bob.member.take(), ["*** error: you are already in #games"]);
  bob.session.receive("/join bad room!");
  assert.match(bob.member.take()[0]!, /^\*\*\* error: cannot join "bad room!"/);
  bob.session.receive("/rooms");
  assert.deepEqual(bob.member.take(), ["*** 2 rooms: #games (1), #lobby (1)"]);
  bob.session.receive("/join lobby");
  assert.deepEqual(hub.rooms.map((r) => r.name), ["lobby"], "an empty room is removed");
  hub.close();
});

Deno.test("ChatHub replays the last historySize messages to someone who joins", () => {
  const hub = makeHub({ historySize: 3 });
  const alice = join(hub, "alice");
  for (let i = 1; i <= 5; i++) alice.session.receive(`message ${i}`);
  const bob = new FakeMember();
  hub.connect(bob).receive("bob");
  const lines = bob.take();
  assert.deepEqual(lines.slice(2, 7), [
    "*** You are bob. /help lists the commands",
    "*** Last 3 messages in #lobby:",
    `${TIME} <alice> message 3`,
    `${TIME} <alice> message 4`,
    `${TIME} <alice> message 5`,
  ]);
  assert.equal(lines[7], `${TIME} *** bob joined #lobby (2 here)`);
  hub.close();
});

Deno.test("ChatHub nicks are unique ignoring case, validated, and changes are announced", () => {
  const hub = makeHub({ maxNickLength: 8 });
  const alice = join(hub, "alice");
  const other = new FakeMember();
  const session = hub.connect(other);
  other.take();
  const attempts: [string, RegExp][] = [
    ["ALICE", /^\*\*\* error: cannot use nick "ALICE": it is taken$/],
    ["/nick Alice", /it is taken/],
    ["9lives", /must start with a letter/],
    ["/nick bad.nick", /may contain only letters, digits, _ and -/],
    ["abcdefghi", /9 characters long, the limit is 8/],
    ["/nick", /usage: \/nick NAME/],
    ["/who", /pick a nick first/],
  ];
  for (const [line, expected] of attempts) {
    session.receive(line);
    assert.match(other.take().join("\n"), expected, line);
    assert.equal(session.nick, "");
  }
  session.receive("bob");
  assert.equal(session.nick, "bob");
  alice.member.take();
  alice.session.receive("/nick Alicia");
  assert.deepEqual(alice.member.take(), [`${TIME} *** alice is now known as Alicia`]);
  assert.match(other.take().join("\n"), /alice is now known as Alicia/);
  session.receive("/nick alice"); // the old nick is free again
  assert.equal(session.nick, "alice");
  alice.session.receive("/nick ALICIA"); // own nick, new case
  assert.equal(alice.session.nick, "ALICIA");
  hub.close();
});

Deno.test("ChatHub /msg reaches only its target, and /who lists the room", () => {
  const hub = makeHub();
  const alice = join(hub, "alice");
  const bob = join(hub, "bob");
  const carol = join(hub, "carol");
  for (const m of [alice, bob, carol]) m.member.take();
  alice.session.receive("/msg BOB psst, secret");
  assert.deepEqual(bob.member.take(), [`${TIME} *alice* psst, secret`]);
  assert.deepEqual(alice.member.take(), [`${TIME} -> *bob* psst, secret`]);
  assert.deepEqual(carol.member.take(), []);
  alice.session.receive("/msg nobody hi");
  assert.deepEqual(alice.member.take(), ['*** error: no one is called "nobody"']);
  alice.session.receive("/msg bob");
  assert.deepEqual(alice.member.take(), ["*** error: usage: /msg NICK TEXT"]);
  alice.session.receive("/who");
  assert.deepEqual(alice.member.take(), ["*** 3 in #lobby: alice, bob, carol"]);
  alice.session.receive("/frobnicate now");
  assert.deepEqual(alice.member.take(), [
    "*** error: unknown command /frobnicate; /help lists the commands",
  ]);
  alice.session.receive("/HELP");
  assert.ok(alice.member.take().some((line) => line.includes("/msg NICK TEXT")));
  hub.close();
});

Deno.test("ChatHub /quit closes with a goodbye, frees the nick and tells the room", () => {
  const hub = makeHub();
  const alice = join(hub, "alice");
  const bob = join(hub, "bob");
  alice.member.take();
  bob.session.receive("/quit off to lunch");
  assert.equal(bob.member.closedWith, "*** Bye");
  assert.equal(bob.session.closed, true);
  assert.deepEqual(alice.member.take(), [`${TIME} *** bob left #lobby (quit: off to lunch)`]);
  bob.session.receive("ignored after quit");
  bob.session.disconnect("connection closed"); // the transport noticing later is harmless
  assert.equal(hub.sessionCount, 1);
  assert.equal(hub.sessionFor("bob"), undefined);
  hub.close();
});

Deno.test("ChatHub sanitises what it relays, nicks included", () => {
  const hub = makeHub();
  const alice = join(hub, "alice");
  const bob = join(hub, "bob");
  alice.member.take();
  bob.session.receive("\x1b[2J\x1b]0;owned\x07hi \u202eevil\x1b[31m!");
  assert.deepEqual(alice.member.take(), [`${TIME} <bob> hi evil!`]);
  bob.session.receive("\x1b[31m\x07"); // nothing left: nothing relayed
  assert.deepEqual(alice.member.take(), []);
  const mallory = new FakeMember();
  const session = hub.connect(mallory);
  session.receive("\x1b[1mmallory");
  assert.equal(session.nick, "mallory");
  hub.close();
});

Deno.test("ChatHub refuses lines over the flood rate with one notice, then disconnects a persistent flooder", () => {
  let now = 0;
  const realNow = performance.now;
  // The token bucket reads performance.now(); drive it by hand for an exact count.
  performance.now = () => now;
  try {
    const hub = makeHub({ floodBurst: 20, floodRate: 10, floodDisconnectAfter: 40 });
    const alice = join(hub, "alice");
    const bob = join(hub, "bob");
    alice.member.take();
    for (let i = 0; i < 30; i++) bob.session.receive(`line ${i}`); // 1 token went to the nick
    const relayed = alice.member.take();
    assert.equal(relayed.length, 19);
    const notices = bob.member.take();
    assert.equal(notices.length, 1);
    assert.match(notices[0]!, /^\*\*\* error: too many lines: the limit is 10 per second/);
    now += 2000; // the bucket is full again: earlier refusals are forgiven
    for (let i = 0; i < 10; i++) bob.session.receive(`calm ${i}`);
    assert.equal(alice.member.take().length, 10);
    // 10 tokens left, then 40 refusals are tolerated...
    for (let i = 0; i < 50; i++) bob.session.receive("flood");
    assert.equal(alice.member.take().length, 10);
    assert.equal(bob.member.take().length, 1, "one notice per streak of refusals");
    assert.equal(bob.session.closed, false);
    // ...and the 41st disconnects.
    bob.session.receive("one too many");
    assert.equal(bob.session.closed, true);
    assert.equal(bob.member.closedWith, "*** disconnected: too many lines too fast");
    assert.deepEqual(alice.member.take(), [`${TIME} *** bob left #lobby (flooding)`]);
    hub.close();
  } finally {
    performance.now = realNow;
  }
});

Deno.test("ChatHub answers a line over maxLineBytes with an error and relays nothing", () => {
  const hub = makeHub({ maxLineBytes: 10 });
  const alice = join(hub, "alice");
  const bob = join(hub, "bob");
  alice.member.take();
  bob.session.receive("\u00e9".repeat(6)); // 6 characters, 12 bytes
  assert.deepEqual(bob.member.take(), [
    "*** error: line too long (12 bytes, the limit is 10); not sent",
  ]);
  bob.session.rejectLongLine(5000);
  assert.match(bob.member.take()[0]!, /5000 bytes/);
  bob.session.receive("\u00e9".repeat(5)); // exactly 10 bytes
  assert.deepEqual(alice.member.take(), [`${TIME} <bob> ${"\u00e9".repeat(5)}`]);
  hub.close();
});

Deno.test("ChatHub disconnects a member that picks no nick within registrationTimeout", async () => {
  const hub = new ChatHub({ registrationTimeout: 30 });
  const closed = Promise.withResolvers<string | null>();
  const member: ChatMember = { send() {}, close: (line) => closed.resolve(line?.text ?? null) };
  hub.connect(member);
  assert.match((await closed.promise)!, /no nick chosen within 0.03 s/);
  assert.equal(hub.sessionCount, 0);
  hub.close();
});

Deno.test("ChatHub disconnects a silent member after idleTimeout", async () => {
  const hub = new ChatHub({ registrationTimeout: 0, idleTimeout: 60 });
  const closed = Promise.withResolvers<string | null>();
  const member: ChatMember = { send() {}, close: (line) => closed.resolve(line?.text ?? null) };
  hub.connect(member).receive("alice");
  assert.match((await closed.promise)!, /no input for 0.06 s/);
  hub.close();
});

Deno.test("ChatHub close() tells everyone the server is shutting down and refuses newcomers", () => {
  const hub = makeHub();
  const alice = join(hub, "alice");
  const unregistered = new FakeMember();
  hub.connect(unregistered);
  hub.close();
  assert.equal(alice.member.closedWith, "*** server shutting down");
  assert.equal(unregistered.closedWith, "*** server shutting down");
  const late = new FakeMember();
  hub.connect(late);
  assert.equal(late.closedWith, "*** server shutting down");
  assert.equal(hub.sessionCount, 0);
});

Deno.test("ChatHub rejects out-of-range options", () => {
  assert.throws(() => new ChatHub({ maxLineBytes: 0 }), RangeError);
  assert.throws(() => new ChatHub({ floodRate: 0 }), RangeError);
  assert.throws(() => new ChatHub({ defaultRoom: "no spaces" }), RangeError);
  assert.throws(() => new ChatHub({ idleTimeout: -1 }), RangeError);
});

Deno.test("ChatHub counts connections and messages (room, /me and private), not commands", () => {
  const hub = makeHub();
  const alice = join(hub, "alice");
  join(hub, "bob");
  assert.equal(hub.connectionCount, 2);
  alice.session.receive("hello");
  alice.session.receive("/me waves");
  alice.session.receive("/msg bob psst");
  alice.session.receive("/who");
  alice.session.receive("/join #other");
  assert.equal(hub.messageCount, 3);
  alice.session.disconnect("bye");
  assert.equal(hub.connectionCount, 2, "a count of connections served, not of those online");
  hub.close();
});
