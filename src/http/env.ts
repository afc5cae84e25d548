// The typed per-request context shared by middleware and handlers.
export interface AppEnv {
  Variables: {
    /** The tenant the request is for, validated and lower-cased. */
    tenantId: string;
  };
}
