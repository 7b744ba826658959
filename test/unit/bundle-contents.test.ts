/**
 * What each function's bundle carries (esbuild's metafile, the options serverless.yml gives serverless-esbuild).
 * The admin functions never deploy or send a notification, so the deploy and send code and the libraries it loads
 * on first use must stay out of their bundles: that rests on tree shaking (the redaction registries apart from the
 * deploy/send ones, `/* @__PURE__ *\/` on the lazy loaders), which one careless top-level call undoes silently.
 */
import path from 'node:path';
import { build } from 'esbuild';

const ROOT = path.resolve(__dirname, '..', '..');

/** packages only deploys and notifications use */
const DEPLOY_ONLY = [
  '@aws-sdk/client-ecs',
  '@aws-sdk/client-lambda',
  '@aws-sdk/client-codebuild',
  '@aws-sdk/client-secrets-manager',
  '@aws-sdk/client-eventbridge',
  'isomorphic-git',
  '@octokit/rest',
  '@gitbeaker/rest',
  'yaml',
  '@slack/webhook',
  'standardwebhooks',
];

/** the packages a bundle carries (bytes in the output) */
async function packagesIn(entry: string): Promise<Set<string>> {
  const result = await build({
    entryPoints: [path.join(ROOT, entry)],
    bundle: true,
    minify: true,
    target: 'node22',
    platform: 'node',
    format: 'cjs',
    write: false,
    metafile: true,
    outfile: path.join(ROOT, '.esbuild-test', 'out.js'),
    absWorkingDir: ROOT,
    logLevel: 'silent',
  });
  const inputs = Object.values(result.metafile.outputs)[0].inputs;
  const out = new Set<string>();
  for (const [file, { bytesInOutput }] of Object.entries(inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
    if (m && bytesInOutput > 0) out.add(m[1]);
  }
  return out;
}

describe('function bundles', () => {
  it('the deployer carries every target and notifier library (they load on first use)', async () => {
    const pkgs = await packagesIn('functions/deployer.ts');
    expect(DEPLOY_ONLY.filter((p) => !pkgs.has(p))).toEqual([]);
  });

  it.each(['functions/admin-triggers.ts', 'functions/admin-logs.ts'])(
    '%s carries no deploy or send code',
    async (entry) => {
      const pkgs = await packagesIn(entry);
      expect(DEPLOY_ONLY.filter((p) => pkgs.has(p))).toEqual([]);
      // what the admin API does need is there
      expect(pkgs.has('zod')).toBe(true);
      expect(pkgs.has('@aws-sdk/client-dynamodb')).toBe(true);
    },
  );
});
