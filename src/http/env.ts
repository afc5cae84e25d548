// The typed per-request context shared by middleware and handlers.
export interface AppEnv {
  Variables: {
    /** The tenant the request is for, validated and lower-cased. */
    tenantId: string;
    /** The code of the error answer, once the error handler gave one (for metrics). */
    errorCode: string | undefined;
  };
}
