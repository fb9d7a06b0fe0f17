// Traced requests that have no record: envoy-request-trace writes a record only for a
// request whose outcome is "recorded"; the others (aborted, timeout, ...) are only counted
// by the agent, and collect keeps those counts per pod in the manifest. Pure; shared by the
// CLI's closing line and the page.
import { counted } from "../counted.js";

/** Outcome and count, in the agent's order. */
export type OutcomeCount = [string, number];

/** What the counts are: not the records' window (--since), the agent's whole life. */
export const AGENT_LIFE_NOTE = "the agent's counts over its life, at collect time";

/** The outcomes other than "recorded" with a count above 0, in the agent's order; none without counts. */
export function unrecordedOf(counts: Readonly<Record<string, number>> | null): OutcomeCount[] {
  return Object.entries(counts ?? {}).filter(([outcome, n]) => outcome !== "recorded" && n > 0);
}

/** Several pods' unrecorded counts added up by outcome, in the order they first appear. */
function addUnrecorded(lists: readonly (readonly OutcomeCount[])[]): OutcomeCount[] {
  const sum = new Map<string, number>();
  for (const list of lists) for (const [outcome, n] of list) sum.set(outcome, (sum.get(outcome) ?? 0) + n);
  return [...sum];
}

/** Every pod's unrecorded requests as one sentence (unrecordedText); null when there are none. */
export function totalUnrecordedText(pods: readonly { outcomes: readonly OutcomeCount[] }[]): string | null {
  return unrecordedText(addUnrecorded(pods.map((p) => p.outcomes)));
}

/** "2 traced requests have no record: 1 aborted, 1 timeout"; null when there are none. */
export function unrecordedText(list: readonly OutcomeCount[]): string | null {
  const total = list.reduce((s, [, n]) => s + n, 0);
  if (total === 0) return null;
  return `${counted(total, "traced request")} ${total === 1 ? "has" : "have"} no record: ${outcomesText(list)}`;
}

/** "1 aborted, 1 timeout". */
export function outcomesText(list: readonly OutcomeCount[]): string {
  return list.map(([outcome, n]) => `${n} ${outcome}`).join(", ");
}
