import assert from "node:assert/strict";
import { ChatLine } from "../../lib/chat/chat_line.ts";
import { type ChatParticipant, ChatRoom } from "../../lib/chat/chat_room.ts";
import { NickRegistry } from "../../lib/chat/nick_registry.ts";

function participant(nick: string, got: string[]): ChatParticipant {
  return { nick, send: (line) => got.push(`${nick}: ${line.text}`) };
}

Deno.test("ChatRoom broadcasts one shared line to every member but the excluded one", () => {
  const got: string[] = [];
  const room = new ChatRoom("lobby");
  const alice = participant("alice", got);
  room.add(alice);
  room.add(participant("bob", got));
  room.add(alice); // once only
  assert.equal(room.size, 2);
  room.broadcast(new ChatLine("hi"), alice);
  room.broadcast(new ChatLine("all"));
  assert.deepEqual(got, ["bob: hi", "alice: all", "bob: all"]);
  assert.equal(room.remove(alice), true);
  assert.equal(room.remove(alice), false);
});

Deno.test("ChatRoom history keeps the last historySize messages in order, or none", () => {
  const room = new ChatRoom("lobby", { historySize: 3 });
  assert.equal(room.history.length, 0);
  for (let i = 1; i <= 7; i++) room.record(new ChatLine(`m${i}`));
  assert.deepEqual(room.history.map((l) => l.text), ["m5", "m6", "m7"]);
  const none = new ChatRoom("quiet", { historySize: 0 });
  none.record(new ChatLine("x"));
  assert.equal(none.history.length, 0);
  assert.throws(() => new ChatRoom("x", { historySize: -1 }), RangeError);
});

Deno.test("ChatLine encodes once, with a newline, and refuses line breaks", () => {
  const line = new ChatLine("h\u00e9");
  assert.deepEqual([...line.bytes], [0x68, 0xc3, 0xa9, 0x0a]);
  assert.equal(line.bytes, line.bytes);
  assert.throws(() => new ChatLine("a\nb"), TypeError);
  assert.throws(() => new ChatLine("a\rb"), TypeError);
});

Deno.test("NickRegistry validates, claims ignoring case and releases only for the owner", () => {
  const nicks = new NickRegistry<string>({ maxLength: 5 });
  assert.equal(nicks.validate("Ab_-9"), undefined);
  assert.match(nicks.validate("")!, /empty/);
  assert.match(nicks.validate("abcdef")!, /limit is 5/);
  assert.match(nicks.validate("_ab")!, /start with a letter/);
  assert.match(nicks.validate("\u0430lice")!, /start with a letter/); // Cyrillic a
  assert.match(nicks.validate("a b")!, /only letters/);
  assert.equal(nicks.claim("Bob", "s1"), true);
  assert.equal(nicks.claim("BOB", "s2"), false);
  assert.equal(nicks.claim("bob", "s1"), true);
  nicks.release("bob", "s2");
  assert.equal(nicks.get("bOb"), "s1");
  nicks.release("BOB", "s1");
  assert.equal(nicks.get("bob"), undefined);
  assert.equal(nicks.size, 0);
});
