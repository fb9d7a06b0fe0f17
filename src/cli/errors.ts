// Bad input: one message that names the file, the document and the field path.
// Commands exit with code 2 on it.

export class InputError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
    readonly documentIndex?: number,
    readonly path?: string,
  ) {
    super(
      [file, documentIndex !== undefined ? `document ${documentIndex + 1}` : undefined, path || undefined, detail]
        .filter((p) => p !== undefined)
        .join(": "),
    );
    this.name = "InputError";
  }
}

export const EXIT_BAD_INPUT = 2;
