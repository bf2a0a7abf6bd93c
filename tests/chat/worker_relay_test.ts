import assert from "node:assert/strict";
import { ChatOwner, type FromChatOwner } from "../../lib/chat/worker_relay.ts";

function ownerWithOutbox(historySize = 2) {
  const sent: [number, FromChatOwner][] = [];
  const owner = new ChatOwner((worker, message) => sent.push([worker, message]), {
    historySize,
  });
  return { owner, sent };
}

Deno.test("ChatOwner passes a room line once to each other worker with members there", () => {
  const { owner, sent } = ownerWithOutbox();
  owner.handle(0, { op: "join", seq: 1, room: "lobby", nick: "alice" });
  owner.handle(1, { op: "join", seq: 1, room: "lobby", nick: "bob" });
  owner.handle(1, { op: "join", seq: 2, room: "lobby", nick: "bea" });
  owner.handle(2, { op: "join", seq: 1, room: "games", nick: "carol" });
  sent.length = 0;
  owner.handle(0, { op: "publish", room: "lobby", text: "<alice> hi", id: "w0:1" });
  assert.deepEqual(sent, [[1, { op: "room", room: "lobby", text: "<alice> hi", id: "w0:1" }]]);
});

Deno.test("ChatOwner keeps the last historySize messages and replays them on join", () => {
  const { owner, sent } = ownerWithOutbox(2);
  owner.handle(0, { op: "join", seq: 1, room: "lobby", nick: "alice" });
  for (const n of [1, 2, 3]) {
    owner.handle(0, { op: "publish", room: "lobby", text: `m${n}`, id: `w0:${n}` });
  }
  owner.handle(1, { op: "join", seq: 7, room: "lobby", nick: "bob" });
  assert.deepEqual(sent.at(-1), [1, {
    op: "reply",
    seq: 7,
    value: { history: [{ id: "w0:2", text: "m2" }, { id: "w0:3", text: "m3" }], size: 2 },
  }]);
});

Deno.test("ChatOwner frees a crashed worker's nicks and seats at once", () => {
  const { owner, sent } = ownerWithOutbox();
  owner.handle(0, { op: "claim", seq: 1, nick: "alice" });
  owner.handle(0, { op: "join", seq: 2, room: "lobby", nick: "alice" });
  owner.handle(1, { op: "claim", seq: 1, nick: "bob" });
  owner.handle(1, { op: "join", seq: 2, room: "lobby", nick: "bob" });
  owner.workerGone(0);
  sent.length = 0;
  owner.handle(1, { op: "who", seq: 3, room: "lobby" });
  owner.handle(1, { op: "claim", seq: 4, nick: "Alice" });
  owner.handle(1, { op: "private", seq: 5, to: "alice", text: "gone?" });
  assert.deepEqual(sent, [
    [1, { op: "reply", seq: 3, value: ["bob"] }],
    [1, { op: "reply", seq: 4, value: true }],
    // alice is bob's own now (claimed above): the message goes to worker 1.
    [1, { op: "private", to: "alice", text: "gone?" }],
    [1, { op: "reply", seq: 5, value: true }],
  ]);
});
