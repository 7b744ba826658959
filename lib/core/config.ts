/**
 * Settings from the environment. serverless.yml sets them on AWS; the local stack (npm start, tests)
 * sets the same names plus endpoint overrides for DynamoDB Local and the SQS stand-in.
 * Read on each call (cheap) so tests can point a process at fresh tables and queues.
 */
function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}
function num(name: string, fallback: number): number {
  const v = process.env[name];
  const n = v === undefined || v === '' ? NaN : Number(v);
  return Number.isFinite(n) ? n : fallback;
}

export const config = {
  region: () => process.env.AWS_REGION ?? 'us-east-1',
  triggersTable: () => required('TRIGGERS_TABLE'),
  logsTable: () => required('LOGS_TABLE'),
  deployQueueUrl: () => required('DEPLOY_QUEUE_URL'),
  /** the scheduler's standard queue (lib/store/schedule.ts) */
  scheduleQueueUrl: () => required('SCHEDULE_QUEUE_URL'),
  /** seconds between two verification polls of a deploy (lib/deploy/verify); tests set 1 */
  verifyPollSeconds: () => Math.max(1, num('VERIFY_POLL_SECONDS', 10)),
  /** set locally: DynamoDB Local / the SQS stand-in */
  dynamodbEndpoint: () => process.env.DYNAMODB_ENDPOINT || undefined,
  sqsEndpoint: () => process.env.SQS_ENDPOINT || undefined,
  /** deploy targets on loopback/private addresses (true locally, false on AWS) */
  allowPrivateTargets: () => process.env.ALLOW_PRIVATE_TARGETS === 'true',
  logTtlDays: () => num('LOG_TTL_DAYS', 30),
  /** a re-delivery with the same sender delivery id within this window answers `duplicate` (GitHub redelivers up to 3 days) */
  deliveryIdWindowSeconds: () => num('DEDUP_WINDOW_SECONDS', 3 * 24 * 3600),
  /** for senders without a delivery id: the same body bytes within this window answer `duplicate` */
  redeliveryWindowSeconds: () => num('REDELIVERY_WINDOW_SECONDS', 600),
  /** must equal the queue's redrive maxReceiveCount: the last attempt marks the entry `failed` */
  maxReceiveCount: () => num('MAX_RECEIVE_COUNT', 5),
  /** first retry delay; doubles per attempt (visibility timeout of the failed message) */
  retryBaseSeconds: () => num('RETRY_BASE_SECONDS', 10),
  /**
   * the sweep (functions/sweep.ts) queues again entries in flight for longer than this: the deploy queue's message
   * retention (serverless.yml DeployQueue MessageRetentionPeriod, 14 days) plus maxReceiveCount visibility timeouts
   * (5 x 1800 s), when no message can be left; sooner, it would queue again messages still in the queue
   */
  sweepStuckAfterSeconds: () => num('SWEEP_STUCK_AFTER_SECONDS', 14 * 24 * 3600 + 5 * 1800),
  /** old secret keeps working this long after a rotation */
  secretGraceSeconds: () => num('SECRET_GRACE_SECONDS', 24 * 3600),
  /** shown in webhookUrl; defaults to https://<API Gateway domain> */
  publicBaseUrl: () => process.env.PUBLIC_BASE_URL || undefined,
  /** notifiers every trigger has, a JSON array (lib/notify defaultNotify parses and validates it) */
  defaultNotify: () => process.env.DEFAULT_NOTIFY ?? '',
  /** answer Docker Hub's callback_url after a deploy (the test suite turns it off: no network there) */
  dockerhubCallbacks: () => process.env.DOCKERHUB_CALLBACKS !== 'false',
  /** local tests only: extra hosts Docker Hub callbacks may go to (honoured only with ALLOW_PRIVATE_TARGETS) */
  dockerhubCallbackExtraHosts: () =>
    process.env.ALLOW_PRIVATE_TARGETS === 'true'
      ? (process.env.DOCKERHUB_CALLBACK_EXTRA_HOSTS ?? '').split(',').filter(Boolean)
      : [],
  /**
   * where a target's secret reference names live on AWS: `{"secretsManager": "k8s"}` is the secret `<prefix>k8s`,
   * `{"ssmParameter": "k8s"}` the parameter `/<prefix>k8s` (serverless.yml custom.targets.secretPrefix, which holds
   * the stage, so a stage reads only its own secrets)
   */
  secretPrefix: () => process.env.SECRET_PREFIX ?? '',
  /** the local stack's secret store (lib/store/local-secrets.ts); when set, references resolve from it, not AWS */
  localSecretsDir: () => process.env.TRIGGERFISH_SECRETS_DIR || undefined,
  /** the admin token itself (local) or the SSM parameter holding it (AWS) */
  adminToken: () => process.env.TRIGGERFISH_ADMIN_TOKEN || undefined,
  adminTokenParam: () => process.env.ADMIN_TOKEN_PARAM || undefined,
  /** `iam`: the admin routes have API Gateway's AWS_IAM authorizer (serverless.yml custom.adminAuth); else `token` */
  adminAuth: (): 'token' | 'iam' => (process.env.ADMIN_AUTH === 'iam' ? 'iam' : 'token'),
};
