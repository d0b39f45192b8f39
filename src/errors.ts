// One registry of error codes for every part (undici's shape): logic branches
// on `code`, adapters look up the HTTP status and DNS RCODE here.

export interface ErrorSpec {
  message: string;
  httpStatus: number;
  /** DNS RCODE name when the error ends a DNS query. */
  dnsRcode: 'SERVFAIL' | 'REFUSED' | 'FORMERR' | 'NOTIMP' | 'NXDOMAIN';
  retryable: boolean;
}

export const ERRORS = {
  CONFIG_INVALID: {
    message: 'configuration is invalid',
    httpStatus: 500,
    dnsRcode: 'SERVFAIL',
    retryable: false,
  },
  CONFIG_UNREADABLE: {
    message: 'configuration file cannot be read',
    httpStatus: 500,
    dnsRcode: 'SERVFAIL',
    retryable: false,
  },
  GEO_DATABASE_UNAVAILABLE: {
    message: 'geo database cannot be opened',
    httpStatus: 500,
    dnsRcode: 'SERVFAIL',
    retryable: false,
  },
  BAD_ADDRESS: {
    message: 'not an IPv4 or IPv6 address',
    httpStatus: 400,
    dnsRcode: 'FORMERR',
    retryable: false,
  },
  UNKNOWN_REGION: { message: 'no such region', httpStatus: 404, dnsRcode: 'SERVFAIL', retryable: false },
  UNKNOWN_SERVICE: { message: 'no such service', httpStatus: 404, dnsRcode: 'REFUSED', retryable: false },
  BAD_ARGUMENT: { message: 'invalid argument', httpStatus: 400, dnsRcode: 'FORMERR', retryable: false },
  MALFORMED_QUERY: {
    message: 'malformed DNS message',
    httpStatus: 400,
    dnsRcode: 'FORMERR',
    retryable: false,
  },
  NOT_IMPLEMENTED: { message: 'not implemented', httpStatus: 501, dnsRcode: 'NOTIMP', retryable: false },
  OUT_OF_ZONE: {
    message: 'name is outside the zone',
    httpStatus: 404,
    dnsRcode: 'REFUSED',
    retryable: false,
  },
  BAD_REQUEST: { message: 'malformed request', httpStatus: 400, dnsRcode: 'FORMERR', retryable: false },
  UNAUTHORIZED: {
    message: 'a valid bearer token is required',
    httpStatus: 401,
    dnsRcode: 'REFUSED',
    retryable: false,
  },
  FORBIDDEN: {
    message: 'this token may not do that',
    httpStatus: 403,
    dnsRcode: 'REFUSED',
    retryable: false,
  },
  UNSUPPORTED_MEDIA_TYPE: {
    message: 'the body must be sent as application/json',
    httpStatus: 415,
    dnsRcode: 'REFUSED',
    retryable: false,
  },
  LOOP_DETECTED: {
    message: 'the request already passed this edge',
    httpStatus: 508,
    dnsRcode: 'SERVFAIL',
    retryable: false,
  },
  NOT_FOUND: { message: 'not found', httpStatus: 404, dnsRcode: 'NXDOMAIN', retryable: false },
  CONFLICT: {
    message: 'conflicts with the current state',
    httpStatus: 409,
    dnsRcode: 'REFUSED',
    retryable: false,
  },
  UPSTREAM_UNAVAILABLE: {
    message: 'no origin could serve the request',
    httpStatus: 502,
    dnsRcode: 'SERVFAIL',
    retryable: true,
  },
  UPSTREAM_TIMEOUT: {
    message: 'the origin did not answer in time',
    httpStatus: 504,
    dnsRcode: 'SERVFAIL',
    retryable: true,
  },
  OVERLOADED: {
    message: 'over capacity, try again later',
    httpStatus: 503,
    dnsRcode: 'SERVFAIL',
    retryable: true,
  },
  CONTROL_UNREACHABLE: {
    message: 'control plane cannot be reached',
    httpStatus: 503,
    dnsRcode: 'SERVFAIL',
    retryable: true,
  },
  STORE_AUTH: {
    message: 'the state store (etcd) refused control: credentials or permissions',
    httpStatus: 502,
    dnsRcode: 'SERVFAIL',
    retryable: false,
  },
  NOT_LEADER: {
    message: 'this control instance is not the leader',
    httpStatus: 503,
    dnsRcode: 'SERVFAIL',
    retryable: true,
  },
  GATE_FAILED: {
    message: 'a gate failed in a receiving region',
    httpStatus: 409,
    dnsRcode: 'REFUSED',
    retryable: false,
  },
  MALFORMED_EVENT: {
    message: 'malformed replication event',
    httpStatus: 400,
    dnsRcode: 'FORMERR',
    retryable: false,
  },
  REPLICATION_UNAVAILABLE: {
    message: 'the replication transport did not accept the event',
    httpStatus: 503,
    dnsRcode: 'SERVFAIL',
    retryable: true,
  },
  PROVIDER_UNSUPPORTED: {
    message: 'the DNS provider cannot express this policy',
    httpStatus: 422,
    dnsRcode: 'REFUSED',
    retryable: false,
  },
  PROVIDER_AUTH: {
    message: 'the DNS provider rejected the credentials',
    httpStatus: 502,
    dnsRcode: 'REFUSED',
    retryable: false,
  },
  PROVIDER_UNREACHABLE: {
    message: 'the DNS provider cannot be reached',
    httpStatus: 503,
    dnsRcode: 'SERVFAIL',
    retryable: true,
  },
  PROVIDER_ZONE_MISSING: {
    message: 'the DNS provider has no such zone',
    httpStatus: 404,
    dnsRcode: 'REFUSED',
    retryable: false,
  },
  PROVIDER_FAILED: {
    message: 'the DNS provider refused the change',
    httpStatus: 502,
    dnsRcode: 'SERVFAIL',
    retryable: true,
  },
  LISTEN_FAILED: {
    message: 'cannot listen on the address',
    httpStatus: 500,
    dnsRcode: 'SERVFAIL',
    retryable: false,
  },
  INTERNAL: { message: 'internal error', httpStatus: 500, dnsRcode: 'SERVFAIL', retryable: true },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** Prometheus counter name every part uses for errors, labelled by code. */
export const ERROR_METRIC = 'meridian_errors_total';

export class MeridianError extends Error {
  readonly code: ErrorCode;
  readonly details: readonly string[];
  readonly spec: ErrorSpec;

  constructor(
    code: ErrorCode,
    message?: string,
    details: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message ?? ERRORS[code].message, options);
    this.name = 'MeridianError';
    this.code = code;
    this.details = details;
    this.spec = ERRORS[code];
  }

  toJSON() {
    return {
      code: this.code,
      message: this.message,
      details: this.details.length > 0 ? this.details : undefined,
    };
  }
}

export const isMeridianError = (e: unknown): e is MeridianError => e instanceof MeridianError;
