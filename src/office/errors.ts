/**
 * A refusal of an office request, with the HTTP status and the JSON body the API answers with:
 * `{"error": code, "field"?: name, "message": text}`. Messages name fields and rules, never the
 * values given (a phone number or a message body must not reach a log or an error).
 */
export class OfficeError extends Error {
  override name = 'OfficeError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
  }

  toJSON(): { error: string; field?: string; message: string } {
    return { error: this.code, ...(this.field !== null ? { field: this.field } : {}), message: this.message };
  }
}

export const invalid = (field: string | null, message: string): OfficeError => new OfficeError(400, 'invalid_request', message, field);
