/**
 * Aozora Bunko (青空文庫) plain text: line 1 is the title, line 2 the author, a dashed block explains the markup,
 * then the body; the colophon starts at 底本： (source edition). Ruby readings 《…》, the ruby start mark ｜ and
 * editor annotations ［＃…］ are markup, not text, and are removed.
 */
export interface AozoraBook {
  readonly text: string;
  readonly title: string;
  readonly author: string;
  readonly language: 'ja';
}

const RULE = /^-{20,}$/;

export function parseAozora(text: string): AozoraBook | null {
  const lines = text.split('\n');
  const firstRule = lines.findIndex((l, i) => i < 20 && RULE.test(l.trim()));
  if (firstRule < 2 || !lines.slice(firstRule, firstRule + 3).some((l) => l.includes('【テキスト中に現れる記号について】'))) return null;
  const secondRule = lines.findIndex((l, i) => i > firstRule && RULE.test(l.trim()));
  if (secondRule === -1) return null;
  const title = lines[0]!.replace(/^\uFEFF/, '').trim();
  const author = lines[1]!.trim();
  let body = lines.slice(secondRule + 1);
  const colophon = body.findIndex((l) => /^底本[:：]/.test(l));
  if (colophon !== -1) body = body.slice(0, colophon);
  const clean = body
    .join('\n')
    .replace(/※?［＃[^］]*］/g, '')
    .replace(/《[^》]*》/g, '')
    .replace(/｜/g, '');
  return { text: clean, title, author, language: 'ja' };
}
