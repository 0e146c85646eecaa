/** What went wrong, in terms the HTTP layer maps to a status once (AllExceptionsFilter). */
export type DomainErrorKind = 'invalid' | 'not_found' | 'conflict' | 'forbidden' | 'unprocessable';

/**
 * An expected failure of a service call: services throw these instead of HTTP exceptions, so
 * the same code serves controllers, jobs and the CLI. The message is shown to the caller.
 */
export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export const DOMAIN_ERROR_STATUS: Record<DomainErrorKind, number> = {
  invalid: 400,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
};
