import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

export const DOCS_PATH = 'docs';
export const DOCS_JSON_PATH = 'docs-json';

/**
 * The OpenAPI document, built from the controllers and DTOs, at `/docs-json`, and Swagger UI at
 * `/docs`. Both are public: they describe the API, they give no access to it.
 */
export function setupApiDocs(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Radd admin API')
    .setDescription(
      'Merchants, catalogue and conversations. Every /api route needs `Authorization: Bearer <JWT>` ' +
        '(HS256; print one with `npm run -s cli -- token --role admin`). Errors are ' +
        '`{ statusCode, error, message }`.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  SwaggerModule.setup(DOCS_PATH, app, () => SwaggerModule.createDocument(app, config), {
    jsonDocumentUrl: DOCS_JSON_PATH,
    raw: ['json'],
  });
}
