// Which files of the agent's output directory may leave the pod: NDJSON records (the
// live file and its rotated copies) and the rendered programs. Nothing else, and no
// name that could climb out of the directory. Pure; shared by the agent and `collect`.

// Rotation indices are not capped at 3 digits: collect keeps copies of files the agent has
// deleted past the agent's own names, and a long collection holds thousands of them.
const NDJSON = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,200}\.ndjson)(?:\.([0-9]{1,9}))?$/;
const PROGRAM = /^programs\/[A-Za-z0-9][A-Za-z0-9_.-]{0,200}\.bt$/;

export const PROGRAMS_DIR = "programs";

export type RecordFileKind = "ndjson" | "program";

/** The kind of a served name ("x.ndjson", "x.ndjson.2", "programs/x.bt"), or null. */
export function recordFileKind(name: string): RecordFileKind | null {
  if (NDJSON.test(name)) return "ndjson";
  if (PROGRAM.test(name)) return "program";
  return null;
}

/** "x.ndjson.2" → { base: "x.ndjson", index: 2 }; the live "x.ndjson" is index 0. */
export function rotationOf(name: string): { base: string; index: number } | null {
  const m = NDJSON.exec(name);
  if (!m?.[1]) return null;
  return { base: m[1], index: m[2] === undefined ? 0 : Number(m[2]) };
}

export function rotatedName(base: string, index: number): string {
  return index === 0 ? base : `${base}.${index}`;
}
