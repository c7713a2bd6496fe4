// The deployment files in deploy/ stay valid: the configs they ship parse with the real schema in
// multi-replica mode, and the Kubernetes Deployment probes the gateway's real health endpoints.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig } from '../src/config/index.ts';

const root = new URL('../deploy/', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const env = {
  SWITCHYARD_MASTER_KEY: 'sk-sy-master-0123456789abcdef',
  SWITCHYARD_POSTGRES_URL: 'postgres://switchyard:pw@postgres:5432/switchyard',
  SWITCHYARD_REDIS_URL: 'redis://redis:6379',
  OPENAI_API_KEY: 'sk-test',
  ANTHROPIC_API_KEY: 'sk-ant-test',
};

type Manifest = { kind: string; metadata: { name: string }; data?: Record<string, string>; spec?: Record<string, unknown> };
const manifests = (path: string): Manifest[] => parseAllDocuments(read(path)).map((d) => d.toJSON() as Manifest);

describe('deploy/', () => {
  it('the shared config and the ConfigMap parse as multi-replica configs', () => {
    const configMap = manifests('kubernetes/configmap.yaml')[0];
    for (const text of [read('switchyard.yaml'), configMap.data?.['switchyard.yaml'] ?? '']) {
      const config = parseConfig(text, { env });
      expect(config.storage.postgres).toBe(env.SWITCHYARD_POSTGRES_URL);
      expect(config.storage.redis).toBe(env.SWITCHYARD_REDIS_URL);
      expect(config.cluster.redis_failure).toBe('fail_closed');
      expect(config.cluster.spool_dir).toBe('/var/lib/switchyard/spool');
      expect(config.server.host).toBe('0.0.0.0');
    }
  });

  it('the Deployment probes /health/ready and /health/live, reads config from the ConfigMap and secrets from the Secret', () => {
    interface Probe {
      httpGet: { path: string };
    }
    interface Container {
      readinessProbe: Probe;
      livenessProbe: Probe;
      envFrom: Array<{ secretRef: { name: string } }>;
    }
    const deployment = manifests('kubernetes/deployment.yaml')[0] as unknown as {
      spec: { template: { spec: { terminationGracePeriodSeconds: number; containers: Container[]; volumes: Array<{ name: string; configMap?: { name: string } }> } } };
    };
    const pod = deployment.spec.template.spec;
    const gateway = pod.containers[0];
    expect(gateway.readinessProbe.httpGet.path).toBe('/health/ready');
    expect(gateway.livenessProbe.httpGet.path).toBe('/health/live');
    expect(gateway.envFrom[0].secretRef.name).toBe('switchyard-secrets');
    expect(pod.volumes.find((v) => v.name === 'config')?.configMap?.name).toBe('switchyard-config');
    // SIGTERM drains for up to drain_timeout_ms (30 s): the grace period must cover it.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(30);
    const secret = manifests('kubernetes/secret.example.yaml')[0] as unknown as { kind: string; stringData: Record<string, string> };
    expect(secret.kind).toBe('Secret');
    expect(Object.keys(secret.stringData)).toEqual(expect.arrayContaining(Object.keys(env)));
    expect(manifests('kubernetes/service.yaml').map((m) => m.kind)).toEqual(['Service', 'PodDisruptionBudget']);
  });

  it('the compose file runs three replicas with their own spool volumes behind a load balancer', () => {
    const compose = parse(read('compose/docker-compose.yml'), { merge: true }) as { services: Record<string, { volumes?: string[]; environment?: Record<string, string> }> };
    const gateways = Object.keys(compose.services).filter((name) => name.startsWith('gateway-'));
    expect(gateways).toHaveLength(3);
    const spools = gateways.map((name) => compose.services[name].volumes?.find((v) => v.endsWith(':/var/lib/switchyard/spool')));
    expect(new Set(spools).size).toBe(3);
    for (const name of gateways) expect(compose.services[name].environment?.SWITCHYARD_REDIS_URL).toBe('redis://redis:6379');
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['lb', 'postgres', 'redis']));
  });
});
