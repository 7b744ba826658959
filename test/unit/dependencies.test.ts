/**
 * The AWS SDK stays one release: mixed @aws-sdk/client-* releases are how duplicate @smithy copies and subtle
 * mismatches start (issue 19). The lock file is the truth of what `npm ci` installs, so this reads it.
 */
import fs from 'node:fs';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; dev?: boolean }>;
};

/** `node_modules/a/node_modules/@smithy/x` -> `@smithy/x` */
const nameOf = (key: string) => key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);

describe('dependencies', () => {
  it("every @aws-sdk/client-* and lib-dynamodb (the product's and the AWS rehearsal's) is pinned to one release", () => {
    const sdk = Object.entries({ ...pkg.dependencies, ...pkg.devDependencies }).filter(
      ([name]) => name.startsWith('@aws-sdk/client-') || name === '@aws-sdk/lib-dynamodb',
    );
    expect(sdk.length).toBeGreaterThan(5);
    const releases = new Set(sdk.map(([, version]) => version));
    expect([...releases]).toHaveLength(1);
    expect([...releases][0]).toMatch(/^3\.\d+\.\d+$/); // exact, so the lock cannot drift apart
  });

  it('the lock file holds one copy of each @smithy and @aws-sdk package the product ships', () => {
    const copies = new Map<string, Set<string>>();
    for (const [key, entry] of Object.entries(lock.packages)) {
      if (!key || entry.dev) continue;
      const name = nameOf(key);
      if (!name.startsWith('@smithy/') && !name.startsWith('@aws-sdk/')) continue;
      copies.set(name, (copies.get(name) ?? new Set()).add(`${key}@${entry.version}`));
    }
    expect(copies.size).toBeGreaterThan(20);
    const duplicated = [...copies].filter(([, keys]) => keys.size > 1).map(([name, keys]) => `${name}: ${[...keys]}`);
    expect(duplicated).toEqual([]);
  });
});
