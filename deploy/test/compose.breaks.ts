// biome-ignore-all lint/suspicious/noTemplateCurlyInString: compose's ${VAR} in the cases, not JS templates
import type { Variant } from './compose.model.ts';
import type { rules } from './compose.rules.ts';
import type { DeployFiles } from './compose.testkit.ts';

/**
 * A break that a rule must catch: every `from` in one file replaced by `to`, looked for in the
 * variant the file belongs to (or the one given).
 */
export type Break = [
  rule: keyof typeof rules,
  file: keyof DeployFiles,
  from: string,
  to: string,
  variant?: Variant,
];
/** The cases of deploy/compose.test.ts: one or more for every rule. */
export const BREAKS: Break[] = [
  ['services', 'compose', 'prom/prometheus:v3.13.1', 'prom/prometheus:latest'],
  ['services', 'compose', '  grafana:\n', '  graphs:\n'],
  [
    'redisPrivate',
    'compose',
    '    networks: [internal]\n',
    '    networks: [internal]\n    ports: ["6379:6379"]\n',
  ],
  ['redisPrivate', 'compose', '- redis-data:/data', '- ./data/redis:/data'],
  ['redisHealth', 'compose', '--user errand ', ''],
  ['redisHealth', 'compose', '"$$ERRAND_REDIS_PASSWORD"', 'errand-password'],
  ['networks', 'compose', 'internal: true', 'internal: false'],
  ['networks', 'compose', '    networks: [internal]\n', '    networks: [internal, front]\n'],
  [
    'networks',
    'compose',
    '    networks: [front]\n    healthcheck:',
    '    networks: [front, internal]\n    healthcheck:',
  ],
  ['apps', 'compose', "127.0.0.1:3002/readyz'", "127.0.0.1:3002/healthz'"],
  ['apps', 'compose', 'condition: service_healthy', 'condition: service_started'],
  ['apps', 'compose', 'restart: unless-stopped', 'restart: on-failure'],
  ['grace', 'compose', 'stop_grace_period: 40s', 'stop_grace_period: 30s'],
  ['appEnv', 'compose', '${DASHBOARD_COOKIE_SECURE:-false}', 'maybe'],
  ['appEnv', 'dockerfile', 'PRODUCER_HOST=0.0.0.0', 'PRODUCER_HOST=127.0.0.1'],
  [
    'appEnv',
    'compose',
    'image-storage:/var/lib/errand/storage',
    'image-storage:/var/lib/errand/images',
  ],
  ['scalable', 'compose', '  worker:\n', '  worker:\n    container_name: errand-worker\n'],
  ['loopback', 'compose', '"${BIND_ADDRESS:-127.0.0.1}:3000:3000"', '"3000:3000"'],
  ['loopback', 'envExample', 'BIND_ADDRESS=127.0.0.1', 'BIND_ADDRESS=0.0.0.0'],
  [
    'secrets',
    'compose',
    '${GRAFANA_ADMIN_PASSWORD:?set GRAFANA_ADMIN_PASSWORD in .env (see .env.example)}',
    'admin',
  ],
  [
    'secrets',
    'compose',
    '${ERRAND_REDIS_PASSWORD:?set ERRAND_REDIS_PASSWORD in .env}@',
    '0123456789abcdef@',
  ],
  ['secrets', 'envExample', 'GRAFANA_ADMIN_PASSWORD=\n', 'GRAFANA_ADMIN_PASSWORD=change-me\n'],
  ['secrets', 'gitignore', '\n.env\n', '\n'],
  ['variables', 'envExample', 'LOG_LEVEL=info\n', ''],
  ['variables', 'envExample', 'ERRAND_TAG=local\n', 'ERRAND_TAG=local\nUNUSED_SETTING=1\n'],
  ['devProfile', 'compose', '    profiles: [dev]\n', ''],
  ['monitoring', 'prometheus', '"dashboard:3001"', '"dashboard:3000"'],
  [
    'monitoring',
    'compose',
    '    networks: [front]\n    healthcheck:',
    '    networks: [internal]\n    healthcheck:',
  ],
  ['monitoring', 'grafanaDatasources', 'http://prometheus:9090', 'http://prom:9090'],
  ['monitoring', 'compose', './deploy/prometheus/alerts.yml:', './deploy/prometheus/rules.yml:'],
  ['baseImages', 'dockerfile', 'FROM node:24.21.0-bookworm-slim', 'FROM node:latest'],
  ['baseImages', 'dockerfile', 'FROM node:24.21.0-bookworm-slim', 'FROM node:24.21.0-alpine'],
  ['dependencies', 'dockerfile', 'npm ci --omit=dev', 'npm ci'],
  ['dependencies', 'dockerfile', 'npm ci --omit=dev', 'npm install --omit=dev'],
  ['runtime', 'dockerfile', 'USER node\n', ''],
  ['runtime', 'dockerfile', 'ENV NODE_ENV=production', 'ENV NODE_ENV=development'],
  ['runtime', 'dockerfile', 'ENTRYPOINT ["/usr/bin/tini", "--"]\n', ''],
  [
    'runtime',
    'dockerfile',
    'CMD ["node", "apps/worker/src/main.ts"]',
    'CMD ["node", "apps/producer/src/main.ts"]',
  ],
  ['imageHealth', 'dockerfile', "/readyz')", "/healthz')"],
  ['lint', 'dockerfile', 'EXPOSE 3000', 'EXPOSE'],
  ['dockerignore', 'dockerignore', '\n.env\n', '\n'],
  ['dockerignore', 'dockerignore', '**/node_modules\n', 'node_modules\n'],
  ['dockerignore', 'dockerignore', '\n.git\n', '\n'],
  ['dockerignore', 'dockerignore', '\ndeploy\n', '\ndeploy\napps/*/templates\n'],
  // The Sentinel variant (deploy/compose.sentinel.yml over docker-compose.yml)
  [
    'services',
    'composeSentinel',
    '  sentinel-2:\n    <<: *sentinel\n',
    '  sentinel-2:\n    <<: *sentinel\n    image: redis:latest\n',
  ],
  ['redisPrivate', 'composeSentinel', '- redis-3-data:/data', '- redis-2-data:/data'],
  ['redisPrivate', 'composeSentinel', '- sentinel-3-data:/data', '- ./data/sentinel-3:/data'],
  [
    'redisPrivate',
    'composeSentinel',
    '    ERRAND_REDIS_REPLICA_PASSWORD: ${ERRAND_REDIS_REPLICA_PASSWORD:',
    '    UNUSED_REPLICA_PASSWORD: ${ERRAND_REDIS_REPLICA_PASSWORD:',
  ],
  [
    'redisPrivate',
    'composeSentinel',
    '  command: ["sentinel"]\n',
    '  command: ["sentinel"]\n  ports: ["26379:26379"]\n',
  ],
  ['redisHealth', 'composeSentinel', '--user errand ', ''],
  [
    'networks',
    'composeSentinel',
    '  command: ["sentinel"]\n  networks: [internal]\n',
    '  command: ["sentinel"]\n  networks: [internal, front]\n',
  ],
  [
    'apps',
    'composeSentinel',
    '  sentinel-3:\n    condition: service_healthy',
    '  sentinel-3:\n    condition: service_started',
  ],
  [
    'secrets',
    'composeSentinel',
    '${ERRAND_REDIS_SENTINEL_PASSWORD:?set ERRAND_REDIS_SENTINEL_PASSWORD in .env for the Sentinel group (see .env.example)}',
    '0123456789abcdef0123456789abcdef',
  ],
  ['variables', 'envExample', 'ERRAND_SENTINEL_FAILOVER_TIMEOUT_MS=60000\n', ''],
  [
    'sentinel',
    'composeSentinel',
    '"--replicaof", "redis", "6379", "--replica-announce-ip", "redis-3"',
    '"--replica-announce-ip", "redis-3"',
  ],
  [
    'sentinel',
    'composeSentinel',
    '"--replica-announce-ip", "redis-2"',
    '"--replica-announce-ip", "redis"',
  ],
  [
    'sentinel',
    'composeSentinel',
    'ERRAND_SENTINEL_ANNOUNCE_HOST: sentinel-2',
    'ERRAND_SENTINEL_ANNOUNCE_HOST: sentinel-1',
  ],
  ['sentinel', 'composeSentinel', '    ERRAND_REDIS_REPLICATION: sentinel\n', ''],
  [
    'sentinel',
    'composeSentinel',
    'REDIS_SENTINELS: sentinel-1:26379,sentinel-2:26379,sentinel-3:26379',
    'REDIS_SENTINELS: sentinel-1:26379',
  ],
  [
    'sentinel',
    'composeSentinel',
    '  REDIS_SENTINEL_NAME: errand\n',
    '  REDIS_SENTINEL_NAME: other\n',
  ],
  ['sentinel', 'composeSentinel', '  REDIS_USERNAME: errand\n', '  REDIS_USERNAME: admin\n'],
  ['sentinel', 'composeSentinel', 'SENTINEL CKQUORUM errand', 'PING'],
  ['sentinel', 'compose', 'redis://errand:', 'redis://admin:'],
  // Image storage: the volume both apps share, or the S3 variant (deploy/compose.s3.yml and
  // deploy/compose.minio.yml over docker-compose.yml)
  [
    'storage',
    'compose',
    '- image-storage:/var/lib/errand/storage # STORAGE_DIR: uploads in',
    '- uploads:/var/lib/errand/storage # STORAGE_DIR: uploads in',
  ],
  [
    'storage',
    'compose',
    'API_KEYS in .env (see .env.example)}\n      STORAGE_DIR: /var/lib/errand/storage\n',
    'API_KEYS in .env (see .env.example)}\n',
  ],
  [
    'storage',
    'composeS3',
    '  worker:\n    environment: *app-storage',
    '  worker:\n    environment:\n      <<: *app-storage\n      STORAGE_URL: s3://errand/other',
  ],
  ['storage', 'composeS3', '  STORAGE_DIR: ""\n', ''],
  ['storage', 'composeS3', '  producer:\n    environment: *app-storage\n', ''],
  ['storage', 'composeMinio', 'service_completed_successfully', 'service_started'],
  [
    'storage',
    'composeMinio',
    '      STORAGE_URL: ${STORAGE_URL:?set STORAGE_URL in .env for object storage (see .env.example)}\n',
    '      STORAGE_URL: s3://other/images\n',
  ],
  ['storage', 'composeMinio', '@minio:9000', '@minio:9001'],
  ['storage', 'composeMinio', '127.0.0.1}:9000:9000"', '127.0.0.1}:9001:9000"'],
  ['storage', 'composeMinio', '      - ./deploy/minio:/setup:ro\n', ''],
  ['storage', 'composeMinio', '- minio-data:/data', '- ./data/minio:/data'],
  ['storage', 'composeMinio', '      test: ["CMD", "mc", "ready", "local"]\n', ''],
  [
    'storage',
    'composeMinio',
    '    minio:\n        condition: service_healthy',
    '    minio:\n        condition: service_started',
  ],
  ['storage', 'composeS3', 'S3_PUBLIC_ENDPOINT: ${S3_PUBLIC_ENDPOINT:-}', 'S3_PUBLIC_ENDPOINT: ""'],
  ['storage', 'envExample', 'S3_ENDPOINT=http://minio:9000', 'S3_ENDPOINT=http://s3:9000', 'minio'],
  [
    'services',
    'composeMinio',
    'quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z',
    'quay.io/minio/minio:latest',
  ],
  [
    'networks',
    'composeMinio',
    '    networks: [front]\n    healthcheck:',
    '    networks: [internal]\n    healthcheck:',
  ],
  [
    'secrets',
    'composeMinio',
    'MINIO_ROOT_PASSWORD: ${MINIO_ROOT_PASSWORD:?set MINIO_ROOT_PASSWORD in .env for MinIO (see .env.example)}',
    'MINIO_ROOT_PASSWORD: 0123456789abcdef',
  ],
  ['secrets', 'envExample', 'S3_SECRET_ACCESS_KEY=\n', 'S3_SECRET_ACCESS_KEY=change-me\n'],
  ['variables', 'envExample', 'MINIO_ROOT_PASSWORD=\n', ''],
];

/** A break in a file laid over the main one is looked for in its variant, any other in the main one alone. */
export const variantOf = (file: keyof DeployFiles): Variant =>
  file === 'composeSentinel'
    ? 'sentinel'
    : file === 'composeS3' || file === 'composeMinio'
      ? 'minio'
      : 'single';
