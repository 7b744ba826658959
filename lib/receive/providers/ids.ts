/** Every provider id a trigger can have. `ecr` has no HTTP route: EventBridge delivers its events. */
export const PROVIDER_IDS = [
  'dockerhub',
  'acr',
  'tcr',
  'harbor',
  'quay',
  'azure-acr',
  'gar',
  'jfrog',
  'nexus',
  'github',
  'gitlab',
  'gitee',
  'gogs',
  'gitea',
  'bitbucket',
  'api',
  'ecr',
] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];
