export const ROLES = ['admin', 'merchant'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling the admin API, as the verified token says. */
export interface Principal {
  /** The token's subject: an operator's or a merchant user's name. */
  sub: string;
  role: Role;
  /** The merchant a `merchant` token belongs to; absent for `admin`. */
  merchantId?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by ApiAuthGuard once the bearer token is verified. */
    principal?: Principal;
  }
}
