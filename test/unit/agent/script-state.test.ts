import { describe, expect, it } from "vitest";
import { nextState, SCRIPT_STATES, type ScriptEvent, type ScriptState } from "../../../src/agent/script-state.js";

const EVENTS: ScriptEvent[] = ["spawned", "attached", "exited", "cannot-run", "skip", "envoy-gone", "stop"];

describe("a script's state machine", () => {
  it("has exactly these transitions; every other event is refused (null)", () => {
    const table: Record<string, string> = {};
    for (const s of SCRIPT_STATES) for (const e of EVENTS) {
      const n = nextState(s, e);
      if (n !== null) table[`${s} ${e}`] = n;
    }
    expect(table).toEqual({
      "pending spawned": "attaching",
      "pending cannot-run": "failed",
      "pending skip": "skipped",
      "pending envoy-gone": "pending",
      "pending stop": "stopped",
      "attaching attached": "running",
      "attaching exited": "restarting",
      "attaching envoy-gone": "pending",
      "attaching stop": "stopped",
      "running exited": "restarting",
      "running envoy-gone": "pending",
      "running stop": "stopped",
      "restarting spawned": "attaching",
      "restarting envoy-gone": "pending",
      "restarting stop": "stopped",
      "failed envoy-gone": "pending",
      "failed stop": "stopped",
      "skipped envoy-gone": "pending",
      "skipped stop": "stopped",
    });
  });

  it("a bpftrace that dies after attaching goes running → restarting → attaching → running", () => {
    const path: ScriptState[] = ["pending"];
    for (const e of ["spawned", "attached", "exited", "spawned", "attached"] as ScriptEvent[]) path.push(nextState(path.at(-1)!, e)!);
    expect(path).toEqual(["pending", "attaching", "running", "restarting", "attaching", "running"]);
  });

  it("stopped is final", () => {
    expect(EVENTS.map((e) => nextState("stopped", e))).toEqual(EVENTS.map(() => null));
  });
});
