import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';
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

  describe('Kubernetes manifests', () => {
    interface K8sDoc {
      kind: string;
      metadata: { name: string };
      data?: Record<string, string>;
      stringData?: Record<string, string>;
      spec?: Record<string, unknown>;
    }
    interface Container {
      env?: Array<{ name: string; value?: string }>;
      envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
      ports?: Array<{ name: string; containerPort: number }>;
      livenessProbe?: { httpGet: { path: string; port: string } };
      readinessProbe?: { httpGet: { path: string; port: string } };
      resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
    }
    const docs: K8sDoc[] = readdirSync(join(root, 'deploy/kubernetes'))
      .filter((file) => file.endsWith('.yaml'))
      .flatMap((file) =>
        parseAllDocuments(read(`deploy/kubernetes/${file}`)).map((doc) => doc.toJS() as K8sDoc),
      );
    const find = (kind: string, name: string) => {
      const doc = docs.find(
        (candidate) => candidate.kind === kind && candidate.metadata.name === name,
      );
      if (!doc) throw new Error(`no ${kind} ${name}`);
      return doc;
    };
    const container = (name: string): Container =>
      (find('Deployment', name).spec as { template: { spec: { containers: Container[] } } })
        .template.spec.containers[0];

    it('has an API and a worker deployment, service, autoscalers, disruption budgets, config and secret', () => {
      for (const [kind, name] of [
        ['Deployment', 'radd-api'],
        ['Deployment', 'radd-worker'],
        ['Service', 'radd-api'],
        ['HorizontalPodAutoscaler', 'radd-api'],
        ['HorizontalPodAutoscaler', 'radd-worker'],
        ['ScaledObject', 'radd-worker'],
        ['PodDisruptionBudget', 'radd-api'],
        ['PodDisruptionBudget', 'radd-worker'],
        ['ConfigMap', 'radd-config'],
        ['Secret', 'radd-secrets'],
        ['Job', 'radd-migrate'],
      ]) {
        expect(find(kind, name).kind).toBe(kind);
      }
    });

    it('probes liveness and readiness on the ports each role serves', () => {
      const api = container('radd-api');
      const worker = container('radd-worker');
      expect(api.env).toEqual(
        expect.arrayContaining([
          { name: 'APP_ROLE', value: 'api' },
          { name: 'PORT', value: '3000' },
        ]),
      );
      expect(worker.env).toEqual(
        expect.arrayContaining([
          { name: 'APP_ROLE', value: 'worker' },
          { name: 'WORKER_HEALTH_PORT', value: '3001' },
        ]),
      );
      // The API acknowledges webhooks without Redis: its readiness does not hang on it.
      for (const [c, port, ready] of [
        [api, 3000, '/health/live'],
        [worker, 3001, '/health/ready'],
      ] as const) {
        expect(c.livenessProbe?.httpGet.path).toBe('/health/live');
        expect(c.readinessProbe?.httpGet.path).toBe(ready);
        const named = c.ports?.find(
          (candidate) => candidate.name === c.readinessProbe?.httpGet.port,
        );
        expect(named?.containerPort).toBe(port);
        expect(c.resources?.requests).toEqual(
          expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }),
        );
        expect(c.resources?.limits).toEqual(
          expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }),
        );
      }
    });

    it('names only settings Radd knows, and provides every required one', () => {
      const keys = [
        ...Object.keys(find('ConfigMap', 'radd-config').data ?? {}),
        ...Object.keys(find('Secret', 'radd-secrets').stringData ?? {}),
        ...(container('radd-api').env ?? []).map((entry) => entry.name),
        ...(container('radd-worker').env ?? []).map((entry) => entry.name),
      ];
      for (const key of keys) expect(SETTINGS).toContain(key);
      for (const key of REQUIRED_SETTINGS) expect(keys).toContain(key);
    });

    it('scales workers on the BullMQ wait lists of real queues', () => {
      const prefix = find('ConfigMap', 'radd-config').data?.REDIS_PREFIX;
      const triggers = (
        find('ScaledObject', 'radd-worker').spec as {
          triggers: Array<{ metadata: { listName: string } }>;
        }
      ).triggers;
      expect(triggers.map((trigger) => trigger.metadata.listName)).toEqual([
        `${prefix}:process-webhook:wait`,
        `${prefix}:ai-response:wait`,
        `${prefix}:message-delivery:wait`,
      ]);
    });
  });
});
