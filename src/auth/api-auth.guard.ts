import {
  BadRequestException,
  ForbiddenException,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ADMIN_ONLY, IS_PUBLIC, MERCHANT_SCOPE } from 'src/auth/auth.decorators';
import type { Principal } from 'src/auth/principal';
import { assertMerchantAccess } from 'src/auth/tenant-access';
import { InvalidTokenError, TokenService } from 'src/auth/token.service';
import { isUuid } from 'src/common/uuid';

// The scheme is case-insensitive (RFC 9110 §11.1).
const BEARER = /^Bearer ([A-Za-z0-9_\-.=]+)$/i;

/**
 * On by default for every route (registered globally): a request needs a valid bearer token
 * unless its route says `@Public()`. Then the route's access rule applies: `@AdminOnly()` routes
 * refuse merchant tokens (403), `@MerchantScoped(param)` routes let a merchant token act only on
 * its own merchant (404 otherwise), and a route with neither refuses merchant tokens.
 */
@Injectable()
export class ApiAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;

    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const principal = this.authenticate(request, http.getResponse<FastifyReply>());
    request.principal = principal;

    const scope = this.reflector.getAllAndOverride<string | undefined>(MERCHANT_SCOPE, targets);
    if (scope !== undefined) {
      const params = request.params as Record<string, string | undefined> | undefined;
      const merchantId = params?.[scope] ?? '';
      if (!isUuid(merchantId)) throw new BadRequestException(`${scope} must be a UUID`);
      assertMerchantAccess(principal, merchantId);
    }
    if (principal.role === 'admin') return true;
    if (this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, targets)) {
      throw new ForbiddenException('this route needs an admin token');
    }
    if (scope === undefined) throw new ForbiddenException('this route needs an admin token');
    return true;
  }

  private authenticate(request: FastifyRequest, reply: FastifyReply): Principal {
    const header = request.headers.authorization;
    const refuse = (message: string, error?: string): never => {
      void reply.header(
        'www-authenticate',
        error ? `Bearer realm="radd", error="${error}"` : 'Bearer realm="radd"',
      );
      throw new UnauthorizedException(message);
    };
    if (header === undefined || header === '') return refuse('missing bearer token');
    const match = BEARER.exec(header);
    if (!match) {
      return refuse('the Authorization header must be "Bearer <token>"', 'invalid_request');
    }
    try {
      return this.tokens.verify(match[1]);
    } catch (error) {
      if (error instanceof InvalidTokenError) return refuse(error.message, 'invalid_token');
      throw error;
    }
  }
}
