import type { TatErrorCode } from './error-codes.js';

/**
 * The one error type that carries a TAT error code. The API turns it into the API 3.0 error
 * envelope; everything else thrown inside an action becomes `InternalError`.
 */
export class TatError extends Error {
  readonly code: TatErrorCode;

  constructor(code: TatErrorCode, message: string) {
    super(message);
    this.name = 'TatError';
    this.code = code;
  }
}

export function isTatError(e: unknown): e is TatError {
  return e instanceof TatError;
}
