/** GET /admin/openapi.json: a valid OpenAPI 3.1 document (checked by @readme/openapi-parser) naming every admin route. */
import { validate } from '@readme/openapi-parser';
import { openApiDocument } from '../../lib/admin/openapi';
import { logRoutes } from '../../lib/admin/logs';
import { secretRoutes } from '../../lib/admin/secrets';
import { steerRoutes } from '../../lib/admin/steer';
import { stateRoutes } from '../../lib/admin/state';
import { triggerRoutes } from '../../lib/admin/triggers';
import { loadServerlessConfig } from '../../lib/local/resources';

const doc = openApiDocument() as any;

it('is valid OpenAPI 3.1', async () => {
  const result = await validate(JSON.parse(JSON.stringify(doc)));
  expect('errors' in result ? result.errors : []).toEqual([]);
  expect(result.valid).toBe(true);
  expect(doc.openapi).toBe('3.1.0');
});

it('a broken document is refused (the validator really checks)', async () => {
  const broken = JSON.parse(JSON.stringify(doc));
  broken.paths['/admin/triggers'].get.responses = 'none';
  const result = await validate(broken);
  expect(result.valid).toBe(false);
});

it('describes exactly the admin routes of the handlers and of serverless.yml', () => {
  const documented = Object.entries(doc.paths).flatMap(([path, ops]: [string, any]) =>
    Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
  );
  const handled = Object.keys({ ...triggerRoutes, ...logRoutes, ...steerRoutes, ...secretRoutes, ...stateRoutes });
  expect(documented.sort()).toEqual(handled.sort());
  const yml = loadServerlessConfig({ stage: 'dev', env: {} });
  const served = Object.values<any>(yml.functions)
    .flatMap((f) => f.events ?? [])
    .map((e) => e.httpApi)
    .filter((h) => h && typeof h === 'object' && String(h.path).startsWith('/admin'))
    .map((h) => `${h.method} ${h.path}`);
  expect(served.sort()).toEqual(handled.sort());
});

it('its request schemas come from the zod schemas the handlers validate with', () => {
  const create = doc.components.schemas.TriggerCreate;
  expect(create.required).toEqual(expect.arrayContaining(['name', 'provider', 'target']));
  expect(create.properties.provider.enum).toEqual(expect.arrayContaining(['github', 'dockerhub', 'tcr']));
  expect(create.additionalProperties).toBe(false);
  expect(doc.components.schemas.MatchRequest.required).toEqual(['payload']);
  // issue 20: the registry pin, one host or a list of hosts/globs
  const registry = create.properties.match.properties.registry;
  expect(registry.description).toMatch(/^registry hosts/);
  expect(JSON.stringify(registry.anyOf)).toContain('"type":"array"');
  const logs = doc.paths['/admin/triggers/{id}/logs'].get.parameters.map((p: any) => p.name);
  expect(logs).toEqual(['id', 'status', 'limit', 'cursor', 'since', 'until']);
});
