/** The HTTP providers by id. Adding a provider: one file in this folder, one line here, one function in serverless.yml. */
import { acr } from './acr';
import { api } from './api';
import { azureAcr } from './azure-acr';
import { bitbucket } from './bitbucket';
import { cdevents } from './cdevents';
import { cloudevents } from './cloudevents';
import { distribution } from './distribution';
import { dockerhub } from './dockerhub';
import { gar } from './gar';
import { generic } from './generic';
import { gitea } from './gitea';
import { gitee } from './gitee';
import { github } from './github';
import { gitlab } from './gitlab';
import { gogs } from './gogs';
import { harbor } from './harbor';
import { jfrog } from './jfrog';
import { nexus } from './nexus';
import { quay } from './quay';
import { tcr } from './tcr';
import type { Provider } from './types';

export const providers: Record<string, Provider> = Object.fromEntries(
  [
    dockerhub,
    acr,
    tcr,
    harbor,
    quay,
    azureAcr,
    gar,
    jfrog,
    nexus,
    github,
    gitlab,
    gitee,
    gogs,
    gitea,
    bitbucket,
    api,
    distribution,
    cloudevents,
    cdevents,
    generic,
  ].map((p) => [p.id, p]),
);
