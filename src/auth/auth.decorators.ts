import {
  createParamDecorator,
  SetMetadata,
  type CustomDecorator,
  type ExecutionContext,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Principal } from 'src/auth/principal';

export const IS_PUBLIC = 'radd:auth:public';
export const ADMIN_ONLY = 'radd:auth:admin-only';
export const MERCHANT_SCOPE = 'radd:auth:merchant-scope';

/** The route needs no token (webhooks, health, metrics). Every other route does. */
export const Public = (): CustomDecorator => SetMetadata(IS_PUBLIC, true);

/** Only an operator (`admin` token) may call the route; a merchant token gets 403. */
export const AdminOnly = (): CustomDecorator => SetMetadata(ADMIN_ONLY, true);

/**
 * The route acts on the merchant named by path parameter `param`. A merchant token may only name
 * its own merchant (another merchant's id is answered 404, so existence is not revealed); an admin
 * token may name any. A malformed id is answered 400. A route that declares neither this nor
 * `@AdminOnly()` refuses merchant tokens (403): tenant access is never open by omission.
 */
export const MerchantScoped = (param: string): CustomDecorator =>
  SetMetadata(MERCHANT_SCOPE, param);

/** The verified caller of the request (set by ApiAuthGuard). */
export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal => {
    const principal = context.switchToHttp().getRequest<FastifyRequest>().principal;
    // Only reachable on a @Public() route, where asking for the caller is a programming error.
    if (!principal) throw new Error('CurrentUser used on a route without authentication');
    return principal;
  },
);
