/**
 * Files of a commit read and replaced in the Git object store of a clone that was never checked out: no work tree
 * exists, so no path of the repository is ever opened on the host and a symlink in the repository cannot lead a
 * read or a write outside the clone. A path is walked tree by tree: every step must be a directory and the end a
 * regular file (mode 100644 or 100755); a symlink (mode 120000) anywhere on the way is refused naming it, as are
 * submodules. Only the files edited are inflated, each at most GIT_FILE_LIMIT bytes.
 */
import fs from 'node:fs';
import type * as GitTypes from 'isomorphic-git';
import { GIT_FILE_LIMIT } from './git-limits';

type Git = typeof GitTypes;

const LINK_HINT =
  'is a symbolic link in the repository; links are not followed (point files[].path at the file itself)';

/** The blob id of `filepath` in `tree`, or why it is not a regular file there. */
async function blobAt(git: Git, dir: string, tree: string, filepath: string, branch: string): Promise<string | Error> {
  const segments = filepath.split('/');
  let current = tree;
  for (const [i, name] of segments.entries()) {
    const entries = (await git.readTree({ fs, dir, oid: current })).tree;
    const entry = entries.find((e) => e.path === name);
    const last = i === segments.length - 1;
    if (!entry) return new Error(`${filepath} is not in ${branch}`);
    if (entry.mode === '120000') {
      const where = last ? filepath : `${segments.slice(0, i + 1).join('/')} (on the way to ${filepath})`;
      return new Error(`${where} ${LINK_HINT}`);
    }
    if (last) {
      if (entry.type !== 'blob' || (entry.mode !== '100644' && entry.mode !== '100755'))
        return new Error(`${filepath} is not a file in ${branch}`);
      return entry.oid;
    }
    if (entry.type !== 'tree') return new Error(`${filepath} is not in ${branch}`);
    current = entry.oid;
  }
  return new Error(`${filepath} is not in ${branch}`);
}

/** The text of `filepath` in `tree`, or why it cannot be read (a link, not a file, over the size limit). */
export async function readTreeFile(
  git: Git,
  dir: string,
  tree: string,
  filepath: string,
  branch: string,
): Promise<string | Error> {
  const oid = await blobAt(git, dir, tree, filepath, branch);
  if (oid instanceof Error) return oid;
  const { blob } = await git.readBlob({ fs, dir, oid });
  if (blob.length > GIT_FILE_LIMIT)
    return new Error(
      `${filepath} is ${blob.length} bytes, over the per-file limit of ${GIT_FILE_LIMIT / 1024 / 1024} MiB`,
    );
  return Buffer.from(blob).toString('utf8');
}

/** `tree` with `filepath` (read before, so every directory on its way exists) holding `text`; the new tree's id. */
export async function replaceTreeFile(
  git: Git,
  dir: string,
  tree: string,
  filepath: string,
  text: string,
): Promise<string> {
  const put = async (treeOid: string, segments: string[]): Promise<string> => {
    const entries = (await git.readTree({ fs, dir, oid: treeOid })).tree.map((e) => ({ ...e }));
    const entry = entries.find((e) => e.path === segments[0]);
    if (!entry) throw new Error(`${filepath} vanished from the tree`);
    entry.oid =
      segments.length === 1
        ? await git.writeBlob({ fs, dir, blob: Buffer.from(text, 'utf8') })
        : await put(entry.oid, segments.slice(1));
    return git.writeTree({ fs, dir, tree: entries });
  };
  return put(tree, filepath.split('/'));
}
