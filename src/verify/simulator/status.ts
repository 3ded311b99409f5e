/**
 * API errors as the API server writes them: a `Status` object with the HTTP code, the
 * reason kubectl prints in `Error from server (<reason>)`, and the message worded as
 * staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go words it (NewNotFound,
 * NewForbidden, NewAlreadyExists, NewInvalid, NewBadRequest, NewInternalError).
 */
export type Reason = 'NotFound' | 'Forbidden' | 'Unauthorized' | 'AlreadyExists' | 'Invalid' | 'BadRequest' | 'MethodNotAllowed' | 'NotAcceptable' | 'UnsupportedMediaType' | 'InternalError';

const CODES: Record<Reason, number> = {
  NotFound: 404, Forbidden: 403, Unauthorized: 401, AlreadyExists: 409, Invalid: 422, BadRequest: 400,
  MethodNotAllowed: 405, NotAcceptable: 406, UnsupportedMediaType: 415, InternalError: 500,
};

/** What a `Status` names: `jobs.batch "x"` is resource `jobs`, group `batch`, name `x`. */
export interface Target {
  readonly group: string;
  readonly resource: string;
  readonly name?: string;
}

export class ApiError extends Error {
  constructor(
    readonly reason: Reason,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  get code(): number {
    return CODES[this.reason];
  }

  /** The `Status` body of the response. */
  status(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details && { details: this.details }),
      code: this.code,
    };
  }
}

/** `jobs.batch`, or `pods` for the core group. */
export function qualified(t: Target): string {
  return t.group ? `${t.resource}.${t.group}` : t.resource;
}

function details(t: Target): Record<string, unknown> {
  return { ...(t.name ? { name: t.name } : {}), group: t.group, kind: t.resource };
}

export function notFound(t: Target): ApiError {
  return new ApiError('NotFound', `${qualified(t)} "${t.name}" not found`, details(t));
}

export function alreadyExists(t: Target): ApiError {
  return new ApiError('AlreadyExists', `${qualified(t)} "${t.name}" already exists`, details(t));
}

/** NewForbidden: `<resource> "<name>" is forbidden: <why>`, no name for list and create. */
export function forbidden(t: Target, why: string): ApiError {
  return new ApiError('Forbidden', `${qualified(t)}${t.name ? ` "${t.name}"` : ''} is forbidden: ${why}`, details(t));
}

/** NewInvalid: `<Kind>.<group> "<name>" is invalid: <field>: <detail>`; kubectl reprints it as `The <Kind> "<name>" is invalid: ...`. */
export function invalid(kind: string, group: string, name: string, field: string, detail: string): ApiError {
  return new ApiError('Invalid', `${kind}.${group} "${name}" is invalid: ${field}: ${detail}`, {
    name, group, kind, causes: [{ reason: 'FieldValueInvalid', message: detail, field }],
  });
}

export function badRequest(message: string): ApiError {
  return new ApiError('BadRequest', message);
}

/** Filters and handlers answer 401 with only this (authentication/filters.go, Unauthorized). */
export function unauthorized(): ApiError {
  return new ApiError('Unauthorized', 'Unauthorized');
}

/** An error of the server itself (the simulator injects these to test that the coordinator retries). */
export function internalError(what: string): ApiError {
  return new ApiError('InternalError', `Internal error occurred: ${what}`, { causes: [{ message: what }] });
}
