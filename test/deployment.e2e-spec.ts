import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REQUIRED_SETTINGS, SETTINGS } from 'src/config/env';

const root = join(__dirname, '..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string | number>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

describe('deployment files', () => {
  const compose = parse(read('docker/compose.yml'), { merge: true }) as {
    services: Record<string, ComposeService>;
  };
  const { services } = compose;

  it('runs PostgreSQL 16, Redis 7, a migration step, the API and a worker', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'migrate', 'postgres', 'redis', 'worker']);
    expect(services.postgres.image).toMatch(/^postgres:16/);
    expect(services.redis.image).toMatch(/^redis:7/);
  });

  it('keeps Redis as BullMQ needs it: append-only and no eviction', () => {
    const command = (services.redis.command ?? []).join(' ');
    expect(command).toContain('--appendonly yes');
    expect(command).toContain('--maxmemory-policy noeviction');
  });

  it('gives each process its role, and every service a health check', () => {
    expect(services.api.environment?.APP_ROLE).toBe('api');
    expect(services.worker.environment?.APP_ROLE).toBe('worker');
    for (const name of ['postgres', 'redis', 'api', 'worker']) {
      expect(services[name].healthcheck?.test.length).toBeGreaterThan(0);
    }
    expect(services.api.healthcheck?.test.join(' ')).toContain(
      `:${services.api.environment?.PORT}/health/ready`,
    );
    expect(services.worker.healthcheck?.test.join(' ')).toContain(
      `:${services.worker.environment?.WORKER_HEALTH_PORT}/health/ready`,
    );
    expect(services.api.depends_on?.migrate.condition).toBe('service_completed_successfully');
  });

  it('passes only settings Radd knows, and every required one', () => {
    for (const name of ['api', 'worker', 'migrate']) {
      for (const key of Object.keys(services[name].environment ?? {})) {
        expect(SETTINGS).toContain(key);
      }
    }
    for (const key of REQUIRED_SETTINGS) {
      expect(Object.keys(services.api.environment ?? {})).toContain(key);
      expect(Object.keys(services.worker.environment ?? {})).toContain(key);
    }
  });

  it('builds on Node 22, installs production dependencies only and runs as a non-root user', () => {
    const dockerfile = read('docker/Dockerfile');
    const stages = dockerfile.split(/^FROM /m).slice(1);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage).toMatch(/^node:22/);
    const final = stages[stages.length - 1];
    expect(final).toContain('npm ci --omit=dev');
    expect(final).toMatch(/^USER (?!root)\w+/m);
    expect(final).toContain('CMD ["node", "dist/main.js"]');
  });

  it('lists every setting in .env.example', () => {
    const listed = read('.env.example')
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => line.slice(0, line.indexOf('=')));
    expect([...listed].sort()).toEqual([...SETTINGS].sort());
  });
});
