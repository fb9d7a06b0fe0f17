// Bad input, named where it is: the file, the document and the field path.
// A leaf module: the policy, k8s and manifests code throw it, the CLI maps it
// to exit code 2 (cli/errors.ts).

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
