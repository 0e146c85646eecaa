/** Largest request body of an `/api/*` route unless the route declares its own (RouteConfig). */
export const API_BODY_LIMIT_BYTES = 256 * 1024;

/** Largest product import (5,000 rows of JSON or CSV fit with room to spare). */
export const IMPORT_BODY_LIMIT_BYTES = 10 * 1024 * 1024;

/** What a route may declare with `@RouteConfig({ bodyLimit })` to override the limit above. */
export interface BodyLimitRouteConfig {
  bodyLimit?: number;
}
