/**
 * The README's table "Security: what each function may do" against the roles in serverless.yml: every function is
 * in exactly one row, and a row names exactly the calls its role allows (service by service) and every index they
 * are allowed on. A function, call or index added to serverless.yml without the README fails here.
 * The deployer's target calls are listed under "Deploy targets" (IAM), checked the same way there.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../lib/local/paths';
import { loadServerlessConfig } from '../../lib/local/resources';

const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
const yml = loadServerlessConfig({ stage: 'dev', env: {} });
const functions = Object.keys(yml.functions);
/** what the deployer may call on targets: documented in the "Deploy targets" IAM list, not in the table */
const TARGET_SERVICES = ['secretsmanager', 'ssm', 'ecs', 'lambda', 'codebuild', 'iam'];

function section(heading: string): string {
  const start = readme.indexOf(`${heading}\n`);
  if (start < 0) throw new Error(`README has no "${heading}"`);
  // up to the next heading of the same or a higher level (its own subsections belong to it)
  const level = heading.indexOf(' ');
  const next = readme.slice(start + heading.length).search(new RegExp(`\\n#{2,${level}} `));
  return readme.slice(start, next < 0 ? undefined : start + heading.length + next);
}

/**
 * `dynamodb:GetItem`, `PutItem` and `Query` -> dynamodb:GetItem, dynamodb:PutItem, dynamodb:Query: a bare name
 * right after a call, in the same list (", " or " and ", an aside in parentheses allowed), is of the same service.
 */
function callsIn(text: string): Set<string> {
  const out = new Set<string>();
  let service = '';
  let end = 0;
  for (const m of text.matchAll(/`([^`]+)`/g)) {
    const code = m[1];
    const between = text.slice(end, m.index).replace(/\([^)]*\)/g, '');
    end = m.index + m[0].length;
    const call = /^([a-z0-9-]+):([A-Za-z*]+)$/.exec(code);
    if (call) {
      service = call[1];
      out.add(code);
    } else if (service && /^[A-Z][A-Za-z]+$/.test(code) && /^\s*(,|and|, and)\s*$/.test(between)) {
      out.add(`${service}:${code}`);
    } else service = '';
  }
  return out;
}

const list = (v: any): any[] => (Array.isArray(v) ? v : [v]);

/** the Allow statements of a function's role (a Fn::If statement, off by default, left out) */
function allows(fn: string): any[] {
  const role = yml.resources.Resources[yml.functions[fn].role];
  return role.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement).filter(
    (s: any) => !s['Fn::If'] && s.Effect === 'Allow',
  );
}

function resourceText(r: any): string {
  if (typeof r === 'string') return r;
  if (r['Fn::Join']) return r['Fn::Join'][1].map(resourceText).join(r['Fn::Join'][0]);
  return JSON.stringify(r);
}

const table = section('### Security: what each function may do');
const rows = table
  .split('\n')
  .filter((l) => l.startsWith('| `'))
  .map((l) => {
    const [, who, may] = l.split('|').map((c) => c.trim());
    const names = [...who.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    const fns = names.flatMap((n) =>
      n.endsWith('*') ? functions.filter((f) => f.startsWith(n.slice(0, -1))) : functions.filter((f) => f === n),
    );
    return { who, may, fns };
  });

describe('README: what each function may do', () => {
  it('has one row for every function of serverless.yml, and none for a function that does not exist', () => {
    const listed = rows.flatMap((r) => r.fns);
    expect([...listed].sort()).toEqual([...functions].sort());
    for (const r of rows) expect(r.fns.length).toBeGreaterThan(0);
  });

  it('says how many receivers there are', () => {
    const hooks = functions.filter((f) => f.startsWith('hook'));
    expect(table).toContain(`(${hooks.length} receivers)`);
  });

  it.each(functions)('%s: the row names exactly the calls its role allows, and every index', (fn) => {
    const row = rows.find((r) => r.fns.includes(fn))!;
    const statements = allows(fn);
    const granted = new Set(
      statements
        .flatMap((s) => list(s.Action))
        .filter((a: string) => !a.startsWith('logs:'))
        .filter((a: string) => fn !== 'deployer' || !TARGET_SERVICES.includes(a.split(':')[0])),
    );
    expect([...callsIn(row.may)].sort()).toEqual([...granted].sort());
    for (const s of statements) {
      for (const r of list(s.Resource)) {
        const index = /\/index\/([A-Za-z]+)$/.exec(resourceText(r));
        if (index) expect([fn, row.may]).toEqual([fn, expect.stringContaining(`\`${index[1]}\``)]);
      }
    }
  });

  it("the deployer's target calls are all in the Deploy targets IAM list", () => {
    const targets = section('### Deploy targets');
    const documented = callsIn(targets.slice(targets.indexOf('IAM (the `DeployerRole`')));
    const granted = allows('deployer')
      .flatMap((s) => list(s.Action))
      .filter((a: string) => TARGET_SERVICES.includes(a.split(':')[0]));
    expect(granted.length).toBeGreaterThan(5);
    for (const a of granted) expect([a, documented.has(a)]).toEqual([a, true]);
  });
});
